"""The DataLoaders of one request: each turns the keys a query level asks for into ONE SELECT."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader

from subgraphs.platform.models import Membership, Organization, User, Watchlist, WatchlistItem
from subgraphs.platform.portfolio import PortfolioFigures, PortfolioRequest, portfolio_batches
from subgraphs.platform.repository import PlatformRepository

Row = TypeVar("Row")
Batch = Callable[[list[str]], Coroutine[Any, Any, list[Row]]]


def by_key(
    fetch: Callable[[Sequence[str]], Coroutine[Any, Any, list[Row]]], key: Callable[[Row], Hashable]
) -> Batch[Row | None]:
    """A batch function returning, for each id, the row with that id or None."""

    async def load(ids: list[str]) -> list[Row | None]:
        rows = {key(row): row for row in await fetch(ids)}
        return [rows.get(id_) for id_ in ids]

    return load


def grouped(
    fetch: Callable[[Sequence[str]], Coroutine[Any, Any, list[Row]]], key: Callable[[Row], Hashable]
) -> Batch[list[Row]]:
    """A batch function returning, for each parent id, its rows in the order fetched."""

    async def load(ids: list[str]) -> list[list[Row]]:
        groups: defaultdict[Hashable, list[Row]] = defaultdict(list)
        for row in await fetch(ids):
            groups[key(row)].append(row)
        return [groups.get(id_, []) for id_ in ids]

    return load


class PlatformLoaders:
    def __init__(self, repository: PlatformRepository) -> None:
        self.organizations: DataLoader[str, Organization | None] = DataLoader(
            by_key(repository.organizations, lambda row: row.id)
        )
        self.users: DataLoader[str, User | None] = DataLoader(
            by_key(repository.users, lambda row: row.id)
        )
        self.members: DataLoader[str, list[tuple[Membership, User]]] = DataLoader(
            grouped(repository.members, lambda row: row[0].organization_id)
        )
        self.watchlists: DataLoader[str, Watchlist | None] = DataLoader(
            by_key(repository.watchlists, lambda row: row.id)
        )
        self.watchlists_by_owner: DataLoader[str, list[Watchlist]] = DataLoader(
            grouped(repository.watchlists_of, lambda row: row.owner_id)
        )
        self.items: DataLoader[str, list[WatchlistItem]] = DataLoader(
            grouped(repository.items_of, lambda row: row.watchlist_id)
        )
        # Every `Watchlist.risk` of the request: one engine call per portfolio shape.
        self.portfolios: DataLoader[PortfolioRequest, PortfolioFigures] = DataLoader(
            portfolio_batches, cache=False
        )
