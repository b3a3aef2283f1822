"""An internally aliased field that is also the key of an entity jump: the subgraph types `id`
differently on two members of a union (`ID!` on Stock, `ID` on Bond), so one `id` is sent under
an internal alias; Stock's `id` is also the key the router sends to the next subgraph, which must
get the value under the field's own name, and the client sees `id` on both."""

from textwrap import dedent
from typing import Annotated

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(keys=["id"])
class Stock:
    id: strawberry.ID  # ID! here


@strawberry.type
class Bond:
    id: strawberry.ID | None  # ID here: conflicts with Stock.id in one selection


@strawberry.type(name="Query")
class QuotesQuery:
    @strawberry.field
    def instruments(self) -> list[Annotated[Stock | Bond, strawberry.union("Instrument")]]:
        return [Stock(id=strawberry.ID("s1")), Bond(id=strawberry.ID("b1")), Stock(id="s2")]


@strawberry.federation.type(name="Stock", keys=["id"])
class RatedStock:
    id: strawberry.ID | None  # nullable here, so the supergraph's Stock.id is ID, as Bond.id
    rating: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "RatedStock":
        return RatedStock(id=id, rating={"s1": "AA", "s2": "B"}[id])


@strawberry.type(name="Query")
class RatingsQuery:
    @strawberry.field
    def top_rating(self) -> str:
        return "AAA"


SCHEMAS = {
    "quotes": strawberry.federation.Schema(query=QuotesQuery),
    "ratings": strawberry.federation.Schema(query=RatingsQuery, types=[RatedStock]),
}
QUERY = "{ instruments { ... on Bond { id } ... on Stock { id rating } } }"


async def test_the_aliased_key_reaches_the_next_subgraph_and_the_client_sees_id() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY) == {
        "data": {
            "instruments": [
                {"id": "s1", "rating": "AA"},
                {"id": "b1"},
                {"id": "s2", "rating": "B"},
            ]
        }
    }
    assert transport.services == ["quotes", "ratings"]
    representations = (transport.requests[1][2] or {})["representations"]
    assert representations == [
        {"__typename": "Stock", "id": "s1"},
        {"__typename": "Stock", "id": "s2"},
    ]


async def test_the_plan_aliases_the_key_in_the_first_fetch_only() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare(QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "quotes") {
              {
                instruments {
                  __typename
                  ... on Bond {
                    id
                  }
                  ... on Stock {
                    id__alias_1: id
                    __typename
                  }
                }
              }
            },
            Flatten(path: "instruments.@") {
              Fetch(service: "ratings") {
                {
                  ... on Stock {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Stock {
                    rating
                  }
                }
              },
            },
          },
        }"""
    )
