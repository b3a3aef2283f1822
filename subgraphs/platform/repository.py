"""All SQL of the platform subgraph: batched reads for the DataLoaders, and the mutations.

Every method runs in one transaction inside `available()`, so a database that is down becomes
`StoreUnavailable` and a rejected change writes nothing. Arguments are validated here, before any
SQL, so no caller can store a value `validation` would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexus.errors import BadUserInput, Conflict, NotFound
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import validation
from subgraphs.platform.models import InstrumentKind, Organization, User, Watchlist, WatchlistItem
from subgraphs.platform.passwords import hash_password

Row = TypeVar("Row")
Entity = TypeVar("Entity", Organization, User, Watchlist, WatchlistItem)


class PlatformRepository:
    def __init__(self, store: PlatformStore) -> None:
        self._store = store

    # Batched reads: one statement per call, whatever the number of keys.

    async def organizations(self, ids: Sequence[str]) -> list[Organization]:
        return await self._all(select(Organization).where(Organization.id.in_(ids)))

    async def users(self, ids: Sequence[str]) -> list[User]:
        return await self._all(select(User).where(User.id.in_(ids)))

    async def members(self, organization_ids: Sequence[str]) -> list[User]:
        query = select(User).where(User.organization_id.in_(organization_ids))
        return await self._all(query.order_by(User.created_at, User.id))

    async def watchlists(self, ids: Sequence[str]) -> list[Watchlist]:
        return await self._all(select(Watchlist).where(Watchlist.id.in_(ids)))

    async def watchlists_of(self, owner_ids: Sequence[str]) -> list[Watchlist]:
        query = select(Watchlist).where(Watchlist.owner_id.in_(owner_ids))
        return await self._all(query.order_by(Watchlist.name))

    async def items_of(self, watchlist_ids: Sequence[str]) -> list[WatchlistItem]:
        query = select(WatchlistItem).where(WatchlistItem.watchlist_id.in_(watchlist_ids))
        return await self._all(query.order_by(WatchlistItem.position))

    async def user_by_email(self, email: str) -> User | None:
        users = await self._all(select(User).where(User.email == validation.email(email)))
        return users[0] if users else None

    # Changes.

    async def create_organization(self, name: str, slug: str | None) -> Organization:
        name = validation.name(name)
        slug = validation.slug_from(name) if slug is None else validation.slug(slug)
        async with available(), self._store.sessions.begin() as session:
            taken = await session.scalar(select(Organization.id).where(Organization.slug == slug))
            if taken is not None:
                raise Conflict(f"an organization already uses the slug {slug!r}; choose another.")
            organization = Organization(name=name, slug=slug)
            return await _insert(session, organization)

    async def register_user(
        self, email: str, password: str, display_name: str, organization_id: str | None
    ) -> User:
        email = validation.email(email)
        display_name = validation.name(display_name, field="displayName")
        validation.password(password)
        if organization_id is not None:
            organization_id = validation.entity_id(organization_id, field="organizationId")
        async with available(), self._store.sessions.begin() as session:
            if organization_id is not None and not await session.get(Organization, organization_id):
                raise NotFound(f"no organization has the id {organization_id}.")
            if await session.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict("this email is already registered; sign in instead.")
            user = User(
                email=email,
                display_name=display_name,
                password_hash=hash_password(password),
                organization_id=organization_id,
            )
            return await _insert(session, user)

    async def create_watchlist(
        self, owner_id: str, name: str, items: Sequence[tuple[InstrumentKind, str]]
    ) -> Watchlist:
        owner_id = validation.entity_id(owner_id, field="ownerId")
        name = validation.name(name)
        validation.item_count(len(items))
        keys = [(kind, validation.instrument_key(key)) for kind, key in items]
        if len(set(keys)) < len(keys):
            raise BadUserInput("items must not list the same kind and key twice.")
        async with available(), self._store.sessions.begin() as session:
            if await session.get(User, owner_id) is None:
                raise NotFound(f"no user has the id {owner_id}.")
            taken = select(Watchlist.id).where(
                Watchlist.owner_id == owner_id, Watchlist.name == name
            )
            if await session.scalar(taken) is not None:
                raise Conflict(f"this user already has a watchlist named {name!r}.")
            watchlist = await _insert(session, Watchlist(owner_id=owner_id, name=name))
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
            watchlist = await _watchlist(session, watchlist_id)
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
            await _insert(session, item, conflict=f"{kind} {key} is already in this watchlist.")
            return watchlist

    async def remove_watchlist_item(
        self, watchlist_id: str, kind: InstrumentKind, key: str
    ) -> Watchlist:
        watchlist_id = validation.entity_id(watchlist_id, field="watchlistId")
        key = validation.instrument_key(key)
        async with available(), self._store.sessions.begin() as session:
            watchlist = await _watchlist(session, watchlist_id)
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
            await _watchlist(session, watchlist_id)
            # Its items go with it: ON DELETE CASCADE.
            await session.execute(delete(Watchlist).where(Watchlist.id == watchlist_id))
            return watchlist_id

    async def _all(self, query: Select[Row]) -> list[Row]:
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())


async def _watchlist(session: AsyncSession, watchlist_id: str) -> Watchlist:
    watchlist = await session.get(Watchlist, watchlist_id)
    if watchlist is None:
        raise NotFound(f"no watchlist has the id {watchlist_id}.")
    return watchlist


async def _insert(session: AsyncSession, row: Entity, *, conflict: str | None = None) -> Entity:
    """Adds `row` and flushes it, so its defaults are set and a broken uniqueness rule shows."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        # The checks before the insert lost a race with another request.
        raise Conflict(conflict or "this change conflicts with an existing record.") from None
    return row
