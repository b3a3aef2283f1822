"""The platform subgraph's entities: what a client sees of the rows, and how relations load.

Relations go through the request's DataLoaders, so a list of N watchlists costs one query for
all their items, not N. `resolve_reference` (the router's `_entities`) goes through them too.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.platform import models, validation
from subgraphs.platform.context import PlatformContext
from subgraphs.platform.instruments import Instrument, instrument
from subgraphs.platform.models import InstrumentKind

Info = strawberry.Info[PlatformContext, None]


@strawberry.federation.type(keys=["id"], description="A team of users sharing Nexus-Alpha.")
class Organization:
    id: strawberry.ID = strawberry.field(description="The organization's id.")
    name: str = strawberry.field(description="Its display name.")
    slug: str = strawberry.field(description="Unique, lower-case and hyphenated: nexus-demo.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            id=strawberry.ID(row.id), name=row.name, slug=row.slug, created_at=row.created_at
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Organization | None:
        return await load_organization(info, id)

    @strawberry.field(description="The organization's users, oldest first.")
    async def members(self, info: Info) -> list[User]:
        return [User.from_row(row) for row in await info.context.loaders.members.load(self.id)]


@strawberry.federation.type(keys=["id"], description="A person who signs in to Nexus-Alpha.")
class User:
    id: strawberry.ID = strawberry.field(description="The user's id.")
    email: str = strawberry.field(description="The e-mail address, lower-cased; unique.")
    display_name: str = strawberry.field(description="The name shown to others.")
    created_at: datetime = strawberry.field(description="When the user registered (UTC).")
    organization_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            display_name=row.display_name,
            created_at=row.created_at,
            organization_id=row.organization_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> User | None:
        return await load_user(info, id)

    @strawberry.field(description="The user's organization; null for none.")
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_id is None:
            return None
        return await load_organization(info, self.organization_id)

    @strawberry.field(description="The user's watchlists, by name.")
    async def watchlists(self, info: Info) -> list[Watchlist]:
        rows = await info.context.loaders.watchlists_by_owner.load(self.id)
        return [Watchlist.from_row(row) for row in rows]


@strawberry.federation.type(
    keys=["id"], description="A user's named, ordered list of instruments to follow."
)
class Watchlist:
    id: strawberry.ID = strawberry.field(description="The watchlist's id.")
    name: str = strawberry.field(description="Its name, unique for its owner.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    owner_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Watchlist) -> Watchlist:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            created_at=row.created_at,
            owner_id=row.owner_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Watchlist | None:
        return await load_watchlist(info, id)

    @strawberry.field(description="The user who owns it.")
    async def owner(self, info: Info) -> User:
        user = await load_user(info, self.owner_id)
        if user is None:  # the foreign key cascades, so only a concurrent delete gets here
            raise RuntimeError(f"watchlist {self.id} has lost its owner")
        return user

    @strawberry.field(description="The items in the watchlist's order.")
    async def items(self, info: Info) -> list[WatchlistItem]:
        rows = await info.context.loaders.items.load(self.id)
        return [WatchlistItem.from_row(row) for row in rows]


@strawberry.type(description="One instrument in a watchlist.")
class WatchlistItem:
    id: strawberry.ID = strawberry.field(description="The item's id.")
    kind: InstrumentKind = strawberry.field(description="What `key` names.")
    key: str = strawberry.field(description="The symbol (BTC, GME) or FRED series id (DGS10).")
    position: int = strawberry.field(description="Its place in the watchlist, from 0.")
    added_at: datetime = strawberry.field(description="When it was added (UTC).")

    @classmethod
    def from_row(cls, row: models.WatchlistItem) -> WatchlistItem:
        return cls(
            id=strawberry.ID(row.id),
            kind=InstrumentKind(row.kind),
            key=row.key,
            position=row.position,
            added_at=row.added_at,
        )

    @strawberry.field(description="The token, stock or FRED series, owned by its own subgraph.")
    def instrument(self) -> Instrument:
        return instrument(self.kind, self.key)


async def load_organization(info: Info, id: str) -> Organization | None:
    row = await info.context.loaders.organizations.load(validation.entity_id(id))
    return None if row is None else Organization.from_row(row)


async def load_user(info: Info, id: str) -> User | None:
    row = await info.context.loaders.users.load(validation.entity_id(id))
    return None if row is None else User.from_row(row)


async def load_watchlist(info: Info, id: str) -> Watchlist | None:
    row = await info.context.loaders.watchlists.load(validation.entity_id(id))
    return None if row is None else Watchlist.from_row(row)
