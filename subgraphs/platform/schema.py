"""The platform subgraph's root fields. Resolvers call the repository or the loaders, no SQL.

No authentication yet: any caller may register users and change any watchlist. A later issue
adds JWT and API keys at the router, and ownership checks here.
"""

from __future__ import annotations

import strawberry

from nexus.graphql_errors import SubgraphSchema
from subgraphs.platform import validation
from subgraphs.platform.inputs import (
    CreateOrganizationInput,
    CreateWatchlistInput,
    RegisterUserInput,
)
from subgraphs.platform.instruments import Series, Stock, Token
from subgraphs.platform.models import InstrumentKind
from subgraphs.platform.types import (
    Info,
    Organization,
    User,
    Watchlist,
    load_organization,
    load_user,
    load_watchlist,
)


@strawberry.type
class Query:
    @strawberry.field
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        return await load_organization(info, id)

    @strawberry.field
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return await load_user(info, id)

    @strawberry.field
    async def user_by_email(self, info: Info, email: str) -> User | None:
        row = await info.context.repository.user_by_email(validation.email(email))
        return None if row is None else User.from_row(row)

    @strawberry.field
    async def watchlist(self, info: Info, id: strawberry.ID) -> Watchlist | None:
        return await load_watchlist(info, id)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_organization(self, info: Info, input: CreateOrganizationInput) -> Organization:
        row = await info.context.repository.create_organization(input.name, input.slug)
        return Organization.from_row(row)

    @strawberry.mutation
    async def register_user(self, info: Info, input: RegisterUserInput) -> User:
        row = await info.context.repository.register_user(
            input.email, input.password, input.display_name, input.organization_id
        )
        return User.from_row(row)

    @strawberry.mutation
    async def create_watchlist(self, info: Info, input: CreateWatchlistInput) -> Watchlist:
        items = [(item.kind, item.key) for item in input.items]
        row = await info.context.repository.create_watchlist(input.owner_id, input.name, items)
        return Watchlist.from_row(row)

    @strawberry.mutation
    async def add_watchlist_item(
        self, info: Info, watchlist_id: strawberry.ID, kind: InstrumentKind, key: str
    ) -> Watchlist:
        row = await info.context.repository.add_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation
    async def remove_watchlist_item(
        self, info: Info, watchlist_id: strawberry.ID, kind: InstrumentKind, key: str
    ) -> Watchlist:
        row = await info.context.repository.remove_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation(description="Deletes the watchlist and its items; returns its id.")
    async def delete_watchlist(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await info.context.repository.delete_watchlist(id))


schema = SubgraphSchema(
    query=Query,
    mutation=Mutation,
    # The stubs are reachable only through the Instrument union; list them so they're printed.
    types=[Token, Stock, Series],
)
