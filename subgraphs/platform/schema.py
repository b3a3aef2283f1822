"""The platform subgraph's root fields. Resolvers call the repository or the loaders, no SQL.

No authentication yet: any caller may register users and change any watchlist. A later issue
adds JWT and API keys at the router, and ownership checks here.
"""

from __future__ import annotations

from typing import Annotated, Any

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


def _id(what: str) -> Any:
    return strawberry.argument(description=f"The {what}'s id.")


def _kind() -> Any:
    return strawberry.argument(description="What `key` names.")


def _key() -> Any:
    return strawberry.argument(description="The symbol (BTC, GME) or FRED series id (DGS10).")


@strawberry.type(description="The entry points for reading data.")
class Query:
    @strawberry.field(description="An organization by id; null if unknown.")
    async def organization(
        self, info: Info, id: Annotated[strawberry.ID, _id("organization")]
    ) -> Organization | None:
        return await load_organization(info, id)

    @strawberry.field(description="A user by id; null if unknown.")
    async def user(self, info: Info, id: Annotated[strawberry.ID, _id("user")]) -> User | None:
        return await load_user(info, id)

    @strawberry.field(description="A user by e-mail address (case-insensitive); null if unknown.")
    async def user_by_email(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The e-mail address.")],
    ) -> User | None:
        row = await info.context.repository.user_by_email(validation.email(email))
        return None if row is None else User.from_row(row)

    @strawberry.field(description="A watchlist by id; null if unknown.")
    async def watchlist(
        self, info: Info, id: Annotated[strawberry.ID, _id("watchlist")]
    ) -> Watchlist | None:
        return await load_watchlist(info, id)


INPUT = strawberry.argument(description="What to create.")


@strawberry.type(description="The entry points for changing data or starting work.")
class Mutation:
    @strawberry.mutation(description="Create an organization; its slug must be unused.")
    async def create_organization(
        self, info: Info, input: Annotated[CreateOrganizationInput, INPUT]
    ) -> Organization:
        row = await info.context.repository.create_organization(input.name, input.slug)
        return Organization.from_row(row)

    @strawberry.mutation(description="Register a user; the e-mail address must be unused.")
    async def register_user(self, info: Info, input: Annotated[RegisterUserInput, INPUT]) -> User:
        row = await info.context.repository.register_user(
            input.email, input.password, input.display_name, input.organization_id
        )
        return User.from_row(row)

    @strawberry.mutation(description="Create a watchlist for a user, with its first items.")
    async def create_watchlist(
        self, info: Info, input: Annotated[CreateWatchlistInput, INPUT]
    ) -> Watchlist:
        items = [(item.kind, item.key) for item in input.items]
        row = await info.context.repository.create_watchlist(input.owner_id, input.name, items)
        return Watchlist.from_row(row)

    @strawberry.mutation(description="Append an instrument to a watchlist; returns the watchlist.")
    async def add_watchlist_item(
        self,
        info: Info,
        watchlist_id: Annotated[strawberry.ID, _id("watchlist")],
        kind: Annotated[InstrumentKind, _kind()],
        key: Annotated[str, _key()],
    ) -> Watchlist:
        row = await info.context.repository.add_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation(description="Remove an instrument from a watchlist; returns it.")
    async def remove_watchlist_item(
        self,
        info: Info,
        watchlist_id: Annotated[strawberry.ID, _id("watchlist")],
        kind: Annotated[InstrumentKind, _kind()],
        key: Annotated[str, _key()],
    ) -> Watchlist:
        row = await info.context.repository.remove_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation(description="Deletes the watchlist and its items; returns its id.")
    async def delete_watchlist(
        self, info: Info, id: Annotated[strawberry.ID, _id("watchlist")]
    ) -> strawberry.ID:
        return strawberry.ID(await info.context.repository.delete_watchlist(id))


schema = SubgraphSchema(
    query=Query,
    mutation=Mutation,
    # The stubs are reachable only through the Instrument union; list them so they're printed.
    types=[Token, Stock, Series],
)
