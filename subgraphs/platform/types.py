"""The platform subgraph's entities: what a client sees of the rows, and how relations load.

Relations go through the request's DataLoaders, so a list of N watchlists costs one query for
all their items, not N. `resolve_reference` (the router's `_entities`) goes through them too,
and the loaders match rows of the caller's organisation only: another organisation's id
resolves to null, exactly like an unknown one.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from nexus.demand import assumed_size
from subgraphs.platform import models, validation
from subgraphs.platform.context import PlatformContext
from subgraphs.platform.instruments import Instrument, instrument
from subgraphs.platform.models import InstrumentKind
from subgraphs.platform.portfolio_types import WatchlistRiskField
from subgraphs.platform.roles import Role

Info = strawberry.Info[PlatformContext, None]


@strawberry.type(description="A price plan: the edge's limits and the monthly invoice's prices.")
class Plan:
    name: str = strawberry.field(description="anonymous, free, pro or enterprise.")
    cost_per_minute: int = strawberry.field(
        description="Cost units a caller may spend per minute (the router's budget)."
    )
    max_operation_cost: int = strawberry.field(
        description="The most one operation may be estimated to cost, in cost units."
    )
    max_subscriptions: int = strawberry.field(
        description="Concurrent subscriptions allowed per caller."
    )
    scopes: list[str] = strawberry.field(description="The scopes a key or token may carry.")
    monthly_price: float = strawberry.field(description="Price per month, in USD.")
    overage_price_per_1000: float = strawberry.field(
        description="Price of each 1,000 cost units over the budget, in USD."
    )

    @classmethod
    def from_row(cls, row: models.Plan) -> Plan:
        return cls(
            name=row.name,
            cost_per_minute=row.cost_per_minute,
            max_operation_cost=row.max_operation_cost,
            max_subscriptions=row.max_subscriptions,
            scopes=sorted(row.scopes.split()),
            monthly_price=row.monthly_price_cents / 100,
            overage_price_per_1000=row.overage_cents_per_1000 / 100,
        )


@strawberry.federation.type(keys=["id"], description="An organisation: it owns every object.")
class Organization:
    id: strawberry.ID = strawberry.field(description="The organisation's id (a UUID).")
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="Unique, lower-case and hyphenated.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    plan_name: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            slug=row.slug,
            created_at=row.created_at,
            plan_name=row.plan,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Organization | None:
        return await load_organization(info, id)

    @strawberry.field(description="The organisation's price plan.")
    async def plan(self, info: Info) -> Plan:
        return Plan.from_row(await info.context.credentials.plan_of(self.id))

    @strawberry.field(
        description="The organisation's members and their roles, oldest first.",
        directives=[assumed_size(10)],
    )
    async def members(self, info: Info) -> list[Member]:
        rows = await info.context.loaders.members.load(self.id)
        return [Member.from_rows(membership, user) for membership, user in rows]


@strawberry.type(description="A user's membership of an organisation.")
class Member:
    user: User = strawberry.field(description="The member.")
    role: Role = strawberry.field(description="What the member may do in the organisation.")
    joined_at: datetime = strawberry.field(description="When the user joined (UTC).")

    @classmethod
    def from_rows(cls, membership: models.Membership, user: models.User) -> Member:
        return cls(
            user=User.from_row(user), role=Role[membership.role], joined_at=membership.created_at
        )


@strawberry.type(description="One of the signed-in user's organisations and their role in it.")
class Membership:
    organization: Organization = strawberry.field(description="The organisation.")
    role: Role = strawberry.field(description="The user's role in it.")
    joined_at: datetime = strawberry.field(description="When the user joined (UTC).")

    @classmethod
    def from_rows(
        cls, membership: models.Membership, organization: models.Organization
    ) -> Membership:
        return cls(
            organization=Organization.from_row(organization),
            role=Role[membership.role],
            joined_at=membership.created_at,
        )


@strawberry.federation.type(keys=["id"], description="A person who signs in.")
class User:
    id: strawberry.ID = strawberry.field(description="The user's id (a UUID).")
    email: str = strawberry.field(description="Lower-cased e-mail address, unique.")
    display_name: str = strawberry.field(description="The name shown to other members.")
    created_at: datetime = strawberry.field(description="When the user signed up (UTC).")
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

    @strawberry.field(
        description="The organisation the user signs in to by default; null when it is not "
        "the caller's."
    )
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_id is None:
            return None
        return await load_organization(info, self.organization_id)

    @strawberry.field(
        description="The user's watchlists in the caller's organisation, by name.",
        directives=[assumed_size(10)],
    )
    async def watchlists(self, info: Info) -> list[Watchlist]:
        if await info.context.visible_organization() is None:
            return []
        rows = await info.context.loaders.watchlists_by_owner.load(self.id)
        return [Watchlist.from_row(row) for row in rows]


@strawberry.federation.type(keys=["id"], description="A named, ordered list of instruments.")
class Watchlist(WatchlistRiskField):
    id: strawberry.ID = strawberry.field(description="The watchlist's id (a UUID).")
    name: str = strawberry.field(description="Unique per owner.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    public: bool = strawberry.field(
        description="Readable by every caller, anonymous ones included; changed only by its "
        "organisation."
    )
    owner_id: strawberry.Private[str]
    # The items' close histories the router brought for `risk` (its @requires), if any.
    required_items: strawberry.Private[object] = None

    @classmethod
    def from_row(cls, row: models.Watchlist) -> Watchlist:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            created_at=row.created_at,
            public=row.public,
            owner_id=row.owner_id,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID, items: object = None
    ) -> Watchlist | None:
        watchlist = await load_watchlist(info, id)  # tenancy: another organisation's is null
        if watchlist is not None:
            watchlist.required_items = items
        return watchlist

    @strawberry.field(
        description="Who made it; null when the caller is outside its organisation (a public "
        "watchlist)."
    )
    async def owner(self, info: Info) -> User | None:
        if await info.context.visible_organization() is None:
            return None
        return await load_user(info, self.owner_id)

    @strawberry.field(
        description="The items in the watchlist's order.",
        directives=[assumed_size(10)],
    )
    async def items(self, info: Info) -> list[WatchlistItem]:
        rows = await info.context.loaders.items.load(self.id)
        return [WatchlistItem.from_row(row) for row in rows]


@strawberry.type(description="One instrument in a watchlist.")
class WatchlistItem:
    id: strawberry.ID = strawberry.field(description="The item's id (a UUID).")
    kind: InstrumentKind = strawberry.field(description="Which domain owns the instrument.")
    key: str = strawberry.field(description="The symbol or FRED series id, upper-cased.")
    position: int = strawberry.field(description="0-based place in the watchlist.")
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

    @strawberry.field(
        description="The token, stock or FRED series, owned by its own subgraph; null when "
        "that subgraph no longer knows it (the rest of the watchlist still reads)."
    )
    def instrument(self) -> Instrument | None:
        return instrument(self.kind, self.key)


async def load_organization(info: Info, id: str) -> Organization | None:
    id_ = validation.entity_id(id)
    if await info.context.visible_organization() is None:
        return None
    row = await info.context.loaders.organizations.load(id_)
    return None if row is None else Organization.from_row(row)


async def load_user(info: Info, id: str) -> User | None:
    id_ = validation.entity_id(id)
    if await info.context.visible_organization() is None:
        return None
    row = await info.context.loaders.users.load(id_)
    return None if row is None else User.from_row(row)


async def load_watchlist(info: Info, id: str) -> Watchlist | None:
    row = await info.context.loaders.watchlists.load(validation.entity_id(id))
    if row is None:
        return None
    if not row.public and await info.context.visible_organization() != row.organization_id:
        return None
    return Watchlist.from_row(row)
