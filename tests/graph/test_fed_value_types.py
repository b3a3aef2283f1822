"""Keyless value types spread across subgraphs, and key chains with cycles."""

from textwrap import dedent

import strawberry

from tests.graph.support import router_over

# --- a @shareable root field whose selection only two subgraphs together define ---------------


@strawberry.federation.type(name="Stats", shareable=True)
class CountedStats:
    trades: int


@strawberry.type(name="Query")
class CountsQuery:
    @strawberry.federation.field(shareable=True)
    def stats(self) -> CountedStats:
        return CountedStats(trades=42)


@strawberry.federation.type(name="Stats", shareable=True)
class SummedStats:
    volume: float


@strawberry.type(name="Query")
class SumsQuery:
    @strawberry.federation.field(shareable=True)
    def stats(self) -> SummedStats:
        return SummedStats(volume=1250.5)


SPLIT = {
    "counts": strawberry.federation.Schema(query=CountsQuery),
    "sums": strawberry.federation.Schema(query=SumsQuery),
}


async def test_a_shareable_root_field_is_split_across_the_subgraphs_defining_its_fields() -> None:
    router, transport = router_over(SPLIT)
    query = "{ stats { trades volume } }"
    assert await router.execute(query) == {"data": {"stats": {"trades": 42, "volume": 1250.5}}}
    assert sorted(transport.services) == ["counts", "sums"]
    document = router.prepare(query, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Parallel {
            Fetch(service: "counts") {
              {
                stats {
                  trades
                }
              }
            },
            Fetch(service: "sums") {
              {
                stats {
                  volume
                }
              }
            },
          },
        }"""
    )


# --- a keyless type's field reached by re-entering its parent entity ---------------------------


@strawberry.federation.type(name="Details", shareable=True)
class SizedDetails:
    size: int


@strawberry.federation.type(name="Product", keys=["id"])
class CatalogProduct:
    id: strawberry.ID
    details: SizedDetails = strawberry.federation.field(shareable=True)


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def products(self) -> list[CatalogProduct]:
        return [CatalogProduct(id=strawberry.ID("p1"), details=SizedDetails(size=3))]


@strawberry.federation.type(name="Details", shareable=True)
class ColouredDetails:
    colour: str


@strawberry.federation.type(name="Product", keys=["id"])
class PaintProduct:
    id: strawberry.ID
    details: ColouredDetails = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "PaintProduct":
        return PaintProduct(id=id, details=ColouredDetails(colour="teal"))


REENTER = {
    "catalog": strawberry.federation.Schema(query=CatalogQuery),
    "paint": strawberry.federation.Schema(types=[PaintProduct]),
}


async def test_a_keyless_field_is_fetched_by_re_entering_its_parent_entity() -> None:
    router, transport = router_over(REENTER)
    query = "{ products { details { size colour } } }"
    assert await router.execute(query) == {
        "data": {"products": [{"details": {"size": 3, "colour": "teal"}}]}
    }
    assert transport.services == ["catalog", "paint"]
    document = router.prepare(query, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                products {
                  details {
                    size
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "paint") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    details {
                      colour
                    }
                  }
                }
              },
            },
          },
        }"""
    )


# --- a key chain whose first candidate is a cycle -----------------------------------------------


@strawberry.federation.type(name="Coin", keys=["id"])
class ListedCoin:
    id: strawberry.ID


@strawberry.type(name="Query")
class ListingQuery:
    @strawberry.field
    def coin(self) -> ListedCoin:
        return ListedCoin(id=strawberry.ID("btc"))


@strawberry.federation.type(name="Coin", keys=["symbol"])
class PricedCoin:
    symbol: str
    price: float

    @classmethod
    def resolve_reference(cls, symbol: str) -> "PricedCoin":
        return PricedCoin(symbol=symbol, price={"BTC": 64000.0}[symbol])


@strawberry.federation.type(name="Coin", keys=["id"])
class MappedCoin:
    id: strawberry.ID
    symbol: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "MappedCoin":
        return MappedCoin(id=id, symbol=str(id).upper())


CHAIN = {
    "a_listing": strawberry.federation.Schema(query=ListingQuery),
    "b_prices": strawberry.federation.Schema(types=[PricedCoin]),
    "c_symbols": strawberry.federation.Schema(types=[MappedCoin]),
}


async def test_a_key_chain_is_searched_past_a_cycle() -> None:
    router, transport = router_over(CHAIN)
    assert await router.execute("{ coin { price } }") == {"data": {"coin": {"price": 64000.0}}}
    assert transport.services == ["a_listing", "c_symbols", "b_prices"]
