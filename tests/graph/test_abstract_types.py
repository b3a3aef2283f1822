"""Interfaces and unions spread across subgraphs, fragments on them, and `node(id:)` lookups."""

from textwrap import dedent
from typing import Annotated, Any

import strawberry

from tests.graph.support import router_over


@strawberry.interface
class Asset:
    id: strawberry.ID
    name: str


@strawberry.federation.type(keys=["id"])
class Stock(Asset):
    ticker: str


@strawberry.federation.type(keys=["id"])
class Token(Asset):
    decimals: int


ASSETS: list[Asset] = [
    Stock(id=strawberry.ID("s1"), name="GameStop", ticker="GME"),
    Token(id=strawberry.ID("t1"), name="Ether", decimals=18),
]
SearchResult = Annotated[Stock | Token, strawberry.union("SearchResult")]


@strawberry.type(name="Query")
class AssetsQuery:
    @strawberry.field
    def assets(self) -> list[Asset]:
        return ASSETS

    @strawberry.field
    def node(self, id: strawberry.ID) -> Asset | None:
        return next((a for a in ASSETS if a.id == id), None)

    @strawberry.field
    def search(self, term: str) -> list[SearchResult]:
        return [a for a in ASSETS if term.lower() in a.name.lower()]  # type: ignore[misc]


@strawberry.federation.type(name="Stock", keys=["id"])
class QuotedStock:
    id: strawberry.ID

    @strawberry.field
    def last_price(self) -> float:
        return 21.5

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "QuotedStock":
        return QuotedStock(id=id)


@strawberry.federation.type(name="Token", keys=["id"])
class QuotedToken:
    id: strawberry.ID

    @strawberry.field
    def last_price(self) -> float:
        return 3100.0

    @strawberry.field
    def chain(self) -> str:
        return "ethereum"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "QuotedToken":
        return QuotedToken(id=id)


# Each subgraph's Schema arguments, so the interop tests can rebuild them for v2.9.
SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "assets": {"query": AssetsQuery, "types": [Stock, Token]},
    "quotes": {"types": [QuotedStock, QuotedToken]},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


async def test_interface_fields_and_type_conditions_across_subgraphs() -> None:
    router, _ = router_over(SCHEMAS)
    query = """
    {
      assets {
        __typename
        id
        ... on Stock { ticker lastPrice }
        ...TokenFields
      }
    }
    fragment TokenFields on Token { name chain price: lastPrice }
    """
    assert await router.execute(query) == {
        "data": {
            "assets": [
                {"__typename": "Stock", "id": "s1", "ticker": "GME", "lastPrice": 21.5},
                {
                    "__typename": "Token",
                    "id": "t1",
                    "name": "Ether",
                    "chain": "ethereum",
                    "price": 3100.0,
                },
            ]
        }
    }


async def test_node_lookup_and_unions() -> None:
    router, _ = router_over(SCHEMAS)
    query = """
    {
      node(id: "t1") { id ... on Token { chain } }
      missing: node(id: "x") { id }
      search(term: "stop") { __typename ... on Stock { ticker lastPrice } ... on Token { chain } }
    }
    """
    assert await router.execute(query) == {
        "data": {
            "node": {"id": "t1", "chain": "ethereum"},
            "missing": None,
            "search": [{"__typename": "Stock", "ticker": "GME", "lastPrice": 21.5}],
        }
    }


async def test_interface_selection_stays_abstract_when_one_subgraph_resolves_it() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare("{ assets { id name } }", None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Fetch(service: "assets") {
            {
              assets {
                __typename
                id
                name
              }
            }
          },
        }"""
    )


async def test_abstract_selection_splits_per_type_for_entity_jumps() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare("{ assets { id ... on Token { chain } } }", None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "assets") {
              {
                assets {
                  __typename
                  ... on Stock {
                    id
                  }
                  ... on Token {
                    id
                    __typename
                  }
                }
              }
            },
            Flatten(path: "assets.@") {
              Fetch(service: "quotes") {
                {
                  ... on Token {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Token {
                    chain
                  }
                }
              },
            },
          },
        }"""
    )
