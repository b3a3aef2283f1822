"""The SQL of organisations, users and watchlists: batched reads for the DataLoaders, and the
watchlist changes.

Every read and write takes the caller's organisation (`organization_id`) and matches rows of
that organisation only, so another organisation's id reads exactly like an unknown one. Every
change runs in one transaction inside `available()`, so a database that is down becomes
`StoreUnavailable` and a rejected change writes nothing. Arguments are validated here, before any
SQL, so no caller can store a value `validation` would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexus.errors import BadUserInput, Conflict, NotFound
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import catalogue, validation
from subgraphs.platform.models import (
    InstrumentKind,
    Membership,
    Organization,
    User,
    Watchlist,
    WatchlistItem,
)

Row = TypeVar("Row")
Entity = TypeVar("Entity", bound=Any)


class PlatformRepository:
    """The reads and writes of one organisation (`organization_id`, None for anonymous)."""

    def __init__(self, store: PlatformStore, organization_id: str | None = None) -> None:
        self._store = store
        self.organization_id = organization_id

    # Batched reads: one statement per call, whatever the number of keys.

    async def organizations(self, ids: Sequence[str]) -> list[Organization]:
        mine = [id_ for id_ in ids if id_ == self.organization_id]
        return await self._all(select(Organization).where(Organization.id.in_(mine)))

    async def users(self, ids: Sequence[str]) -> list[User]:
        """Users of this organisation among `ids`."""
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id.in_(ids), Membership.organization_id == self.organization_id)
        )
        return await self._all(query)

    async def members(self, organization_ids: Sequence[str]) -> list[tuple[Membership, User]]:
        query = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organization_id.in_(organization_ids),
                Membership.organization_id == self.organization_id,
            )
            .order_by(Membership.created_at, User.id)
        )
        async with available(), self._store.sessions() as session:
            return [(membership, user) for membership, user in (await session.execute(query))]

    async def watchlists(self, ids: Sequence[str]) -> list[Watchlist]:
        """This organisation's watchlists among `ids`, and public ones."""
        visible = or_(Watchlist.organization_id == self.organization_id, Watchlist.public)
        return await self._all(select(Watchlist).where(Watchlist.id.in_(ids), visible))

    async def watchlists_of(self, owner_ids: Sequence[str]) -> list[Watchlist]:
        query = select(Watchlist).where(
            Watchlist.owner_id.in_(owner_ids), Watchlist.organization_id == self.organization_id
        )
        return await self._all(query.order_by(Watchlist.name))

    async def organization_watchlists(self) -> list[Watchlist]:
        query = select(Watchlist).where(Watchlist.organization_id == self.organization_id)
        return await self._all(query.order_by(Watchlist.name, Watchlist.id))

    async def public_watchlists(self) -> list[Watchlist]:
        return await self._all(
            select(Watchlist).where(Watchlist.public).order_by(Watchlist.name, Watchlist.id)
        )

    async def items_of(self, watchlist_ids: Sequence[str]) -> list[WatchlistItem]:
        query = select(WatchlistItem).where(WatchlistItem.watchlist_id.in_(watchlist_ids))
        return await self._all(query.order_by(WatchlistItem.position))

    # Changes.

    async def create_watchlist(
        self,
        owner_id: str,
        name: str,
        items: Sequence[tuple[InstrumentKind, str]],
        *,
        public: bool = False,
    ) -> Watchlist:
        name = validation.name(name)
        validation.item_count(len(items))
        keys = [(kind, validation.instrument_key(key)) for kind, key in items]
        if len(set(keys)) < len(keys):
            raise BadUserInput("items must not list the same kind and key twice.")
        await catalogue.require_known(self._store, keys)
        async with available(), self._store.sessions.begin() as session:
            taken = select(Watchlist.id).where(
                Watchlist.owner_id == owner_id, Watchlist.name == name
            )
            if await session.scalar(taken) is not None:
                raise Conflict(f"you already have a watchlist named {name!r}.")
            watchlist = await insert(
                session,
                Watchlist(
                    owner_id=owner_id,
                    organization_id=self.organization_id,
                    name=name,
                    public=public,
                ),
            )
            session.add_all(
                WatchlistItem(watchlist_id=watchlist.id, kind=kind, key=key, position=position)
                for position, (kind, key) in enumerate(keys)
            )
            return watchlist

    async def add_watchlist_item(
        self, watchlist_id: str, kind: InstrumentKind, key: str
    ) -> Watchlist:
        watchlist_id = validation.entity_id(watchlist_id, field="watchlistId")
        key = validation.instrument_key(key)
        async with available(), self._store.sessions.begin() as session:
            watchlist = await self._watchlist(session, watchlist_id)
            await catalogue.require_known(self._store, [(kind, key)])
            count = await session.scalar(
                select(func.count()).where(WatchlistItem.watchlist_id == watchlist_id)
            )
            validation.item_count((count or 0) + 1)
            last = await session.scalar(
                select(func.max(WatchlistItem.position)).where(
                    WatchlistItem.watchlist_id == watchlist_id
                )
            )
            position = 0 if last is None else last + 1
            item = WatchlistItem(watchlist_id=watchlist_id, kind=kind, key=key, position=position)
            await insert(session, item, conflict=f"{kind} {key} is already in this watchlist.")
            return watchlist

    async def remove_watchlist_item(
        self, watchlist_id: str, kind: InstrumentKind, key: str
    ) -> Watchlist:
        watchlist_id = validation.entity_id(watchlist_id, field="watchlistId")
        key = validation.instrument_key(key)
        async with available(), self._store.sessions.begin() as session:
            watchlist = await self._watchlist(session, watchlist_id)
            items = (
                await session.scalars(
                    select(WatchlistItem)
                    .where(WatchlistItem.watchlist_id == watchlist_id)
                    .order_by(WatchlistItem.position)
                )
            ).all()
            removed = next((i for i in items if (i.kind, i.key) == (kind, key)), None)
            if removed is None:
                raise NotFound(f"{kind} {key} is not in this watchlist.")
            await session.delete(removed)
            # Keep positions dense (0..n-1) so clients can use them as indexes.
            for position, item in enumerate(i for i in items if i is not removed):
                item.position = position
            return watchlist

    async def delete_watchlist(self, watchlist_id: str) -> str:
        watchlist_id = validation.entity_id(watchlist_id)
        async with available(), self._store.sessions.begin() as session:
            await self._watchlist(session, watchlist_id)
            # Its items go with it: ON DELETE CASCADE.
            await session.execute(delete(Watchlist).where(Watchlist.id == watchlist_id))
            return watchlist_id

    async def _watchlist(self, session: AsyncSession, watchlist_id: str) -> Watchlist:
        """This organisation's watchlist (public ones of others are read-only to us)."""
        watchlist = await session.get(Watchlist, watchlist_id)
        if watchlist is None or watchlist.organization_id != self.organization_id:
            raise NotFound(f"no watchlist has the id {watchlist_id}.")
        return watchlist

    async def _all(self, query: Select[Row]) -> list[Row]:
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())


async def insert(session: AsyncSession, row: Entity, *, conflict: str | None = None) -> Entity:
    """Adds `row` and flushes it, so its defaults are set and a broken uniqueness rule shows."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        # The checks before the insert lost a race with another request.
        raise Conflict(conflict or "this change conflicts with an existing record.") from None
    return row
