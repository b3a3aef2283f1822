"""What the router sees: `_service { sdl }` and `_entities` for the platform's entities."""

from __future__ import annotations

import strawberry

from graph.in_process import in_process_router
from nexus.auth.authenticator import Authenticator
from nexus.stores import Stores
from subgraphs.platform import subgraph
from tests.platform.conftest import GraphQL, create_watchlist, sign_up

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id email watchlists { name } }
    ... on Watchlist { id name owner { email } items { key } }
    ... on Organization { id slug }
  }
}
"""


async def test_sdl_declares_entities_and_non_resolvable_instrument_stubs(
    graphql: GraphQL,
) -> None:
    result = await graphql("{ _service { sdl } }")

    assert result.errors is None
    assert result.data is not None
    sdl = result.data["_service"]["sdl"]
    for declaration in (
        'type Token @key(fields: "symbol", resolvable: false) {\n'
        '  """The token\'s symbol, e.g. BTC."""\n  symbol: String!\n',
        'type Stock @key(fields: "symbol", resolvable: false) {\n'
        '  """The ticker, e.g. GME."""\n  symbol: String!\n',
        # Watchlist.risk @requires the items' histories, which crypto and micro own.
        "closeHistory: CloseHistory @external",
        'risk(\n    """First day, inclusive; open if null."""\n    from: Date = null',
        "@requires(fields: \"items { kind key instrument { ... on Token { closeHistory { dates "
        "closes } } ... on Stock { closeHistory { dates closes } } } }\")",
        'type Series @key(fields: "id", resolvable: false) {\n'
        '  """The FRED series id, e.g. DGS10."""\n  id: ID!\n}',
        "union Instrument = Token | Stock | Series",
        'type User @key(fields: "id")',
        'type Organization @key(fields: "id")',
        'type Watchlist @key(fields: "id")',
        "enum InstrumentKind {\n"
        '  """A crypto token symbol, e.g. BTC (crypto\'s `Token`)."""\n  TOKEN\n\n'
        '  """A stock ticker, e.g. GME (micro\'s `Stock`)."""\n  STOCK\n\n'
        '  """A FRED series id, e.g. DGS10 (macro\'s `Series`)."""\n  SERIES\n}',
    ):
        assert declaration in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl


async def test_entities_resolve_users_and_watchlists_in_order(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)
    owner = account.user_id
    other = await sign_up(graphql, authenticator, "eve@example.com")
    watchlist = await create_watchlist(graphql, account, [("TOKEN", "BTC")])
    unknown = "00000000-0000-4000-8000-000000000000"

    result = await graphql(
        ENTITIES,
        account.caller,
        representations=[
            {"__typename": "Watchlist", "id": watchlist},
            {"__typename": "User", "id": owner},
            {"__typename": "User", "id": unknown},
            {"__typename": "User", "id": other.user_id},  # another organisation's: as unknown
            {"__typename": "Organization", "id": other.organization_id},
        ],
    )

    assert result.errors is None
    assert result.data == {
        "_entities": [
            {
                "__typename": "Watchlist",
                "id": watchlist,
                "name": "Main",
                "owner": {"email": "ada@example.com"},
                "items": [{"key": "BTC"}],
            },
            {
                "__typename": "User",
                "id": owner,
                "email": "ada@example.com",
                "watchlists": [{"name": "Main"}],
            },
            None,
            None,
            None,
        ]
    }


@strawberry.federation.type(name="Token", keys=["symbol"])
class KnownToken:
    """The crypto domain, knowing BTC only: ETH has gone since it was put in a watchlist."""

    symbol: str
    name: str

    @classmethod
    def resolve_reference(cls, symbol: str) -> KnownToken | None:
        return cls(symbol=symbol, name="Bitcoin") if symbol == "BTC" else None


@strawberry.type
class CryptoQuery:
    @strawberry.field
    def token(self, symbol: str) -> KnownToken | None:
        return KnownToken.resolve_reference(symbol)


async def test_an_item_whose_instrument_is_gone_nulls_only_that_item(
    graphql: GraphQL, authenticator: Authenticator, stores: Stores
) -> None:
    owner = await sign_up(graphql, authenticator)
    await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("TOKEN", "ETH")], public=True)
    crypto = strawberry.federation.Schema(query=CryptoQuery, types=[KnownToken])
    router = in_process_router(
        {"platform": subgraph.schema, "crypto": crypto},
        contexts={"platform": lambda: subgraph.make_context(stores)},
        check_satisfiability=False,  # this stand-in crypto has no closeHistory for `risk`
    )

    response = await router.execute(
        "{ publicWatchlists { name items { key instrument { ... on Token { name } } } } }"
    )

    assert response.get("data") == {
        "publicWatchlists": [
            {
                "name": "Main",
                "items": [
                    {"key": "BTC", "instrument": {"name": "Bitcoin"}},
                    {"key": "ETH", "instrument": None},
                ],
            }
        ]
    }
