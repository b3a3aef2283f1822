"""Selections rewritten for each subgraph's own schema: same-named fields whose types differ in
one subgraph get internal aliases (the client sees its own names); fragments on types a
subgraph does not define are never sent to it."""

from textwrap import dedent
from typing import Annotated

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(keys=["id"])
class Stock:
    id: strawberry.ID
    price: float = strawberry.federation.field(shareable=True)  # Float! here


@strawberry.type
class Bond:
    id: strawberry.ID
    price: float | None


@strawberry.type(name="Query")
class QuotesQuery:
    @strawberry.field
    def instruments(self) -> list[Annotated[Stock | Bond, strawberry.union("Instrument")]]:
        return [
            Stock(id=strawberry.ID("s1"), price=101.5),
            Bond(id=strawberry.ID("b1"), price=None),
        ]


@strawberry.federation.type(name="Stock", keys=["id"])
class RatedStock:
    id: strawberry.ID
    price: float | None = strawberry.federation.field(shareable=True)  # nullable here
    rating: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "RatedStock":
        return RatedStock(id=id, price=101.5, rating="AA")


@strawberry.type
class Fund:
    id: strawberry.ID
    price: float | None


@strawberry.type(name="Query")
class RatingsQuery:
    @strawberry.field
    def funds(self) -> list[Fund]:
        return [Fund(id=strawberry.ID("f1"), price=12.0)]


SCHEMAS = {
    "quotes": strawberry.federation.Schema(query=QuotesQuery),
    "ratings": strawberry.federation.Schema(query=RatingsQuery, types=[RatedStock]),
}
QUERY = "{ instruments { ... on Stock { id price rating } ... on Bond { id price } } }"


async def test_fields_of_different_types_in_one_request_are_aliased_for_the_subgraph() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY) == {
        "data": {
            "instruments": [
                {"id": "s1", "price": 101.5, "rating": "AA"},
                {"id": "b1", "price": None},
            ]
        }
    }
    assert "errors" not in (await router.execute(QUERY))
    assert transport.services[:2] == ["quotes", "ratings"]


async def test_the_plan_shows_the_internal_alias() -> None:
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
                    price
                  }
                  ... on Stock {
                    id
                    price__alias_1: price
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


# --- a field that is an object in one subgraph and a union in another --------------------------


@strawberry.federation.type(name="Book", shareable=True)
class ShopBook:
    title: str


@strawberry.type(name="Query")
class ShopQuery:
    @strawberry.federation.field(shareable=True)
    def featured(self) -> ShopBook:
        return ShopBook(title="Flash Boys")


@strawberry.federation.type(name="Book", shareable=True)
class RadioBook:
    title: str


@strawberry.federation.type(shareable=True)
class Song:
    seconds: int


@strawberry.type(name="Query")
class RadioQuery:
    @strawberry.federation.field(shareable=True)
    def featured(self) -> Annotated[RadioBook | Song, strawberry.union("Media")]:
        return RadioBook(title="Flash Boys")

    @strawberry.field
    def station(self) -> str:
        return "FM 101"


NARROWED = {
    "a_shop": strawberry.federation.Schema(query=ShopQuery),
    "radio": strawberry.federation.Schema(query=RadioQuery, types=[Song]),
}


async def test_a_field_typed_as_an_object_in_one_subgraph_gets_no_other_members() -> None:
    router, transport = router_over(NARROWED)
    query = "{ featured { __typename ... on Book { title } ... on Song { seconds } } }"
    document = router.prepare(query, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Fetch(service: "a_shop") {
            {
              featured {
                __typename
                title
              }
            }
          },
        }"""
    )
    assert await router.execute(query) == {
        "data": {"featured": {"__typename": "Book", "title": "Flash Boys"}}
    }
    assert transport.services == ["a_shop"]


# --- a fragment on a type one subgraph does not define -----------------------------------------


@strawberry.interface(name="Asset")
class StockAsset:
    id: strawberry.ID


@strawberry.type(name="Equity")
class Equity(StockAsset):
    ticker: str


@strawberry.type(name="Query")
class EquitiesQuery:
    @strawberry.field
    def assets(self) -> list[StockAsset]:
        return [Equity(id=strawberry.ID("e1"), ticker="ACME")]


@strawberry.interface(name="Asset")
class ChainAsset:
    id: strawberry.ID


@strawberry.type(name="Token")
class Token(ChainAsset):
    chain: str


@strawberry.type(name="Query")
class TokensQuery:
    @strawberry.field
    def tokens(self) -> list[ChainAsset]:
        return [Token(id=strawberry.ID("t1"), chain="ethereum")]


UNKNOWN = {
    "equities": strawberry.federation.Schema(query=EquitiesQuery, types=[Equity]),
    "tokens": strawberry.federation.Schema(query=TokensQuery, types=[Token]),
}


async def test_a_fragment_on_a_type_the_subgraph_lacks_is_not_sent() -> None:
    router, transport = router_over(UNKNOWN)
    query = "{ assets { id ... on Token { chain } ... on Equity { ticker } } }"
    assert await router.execute(query) == {"data": {"assets": [{"id": "e1", "ticker": "ACME"}]}}
    ((service, sent, _),) = transport.requests
    assert service == "equities" and "Token" not in sent
