"""@skip/@include on variables: Condition nodes in one cached plan, whatever the values."""

from textwrap import dedent

import strawberry

from tests.graph.support import router_over

NAMES = {"1": "Table", "2": "Couch"}


@strawberry.federation.type(name="Product", keys=["upc"])
class CatalogProduct:
    upc: str

    @strawberry.field
    def name(self) -> str:
        return NAMES[self.upc]


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def top_products(self) -> list[CatalogProduct]:
        return [CatalogProduct(upc=upc) for upc in NAMES]


@strawberry.federation.type(name="Product", keys=["upc"])
class StockProduct:
    upc: str

    @strawberry.field
    def in_stock(self) -> bool:
        return self.upc == "1"

    @classmethod
    def resolve_reference(cls, upc: str) -> "StockProduct":
        return StockProduct(upc=upc)


@strawberry.type(name="Query")
class StockQuery:
    @strawberry.field
    def warehouse_count(self) -> int:
        return 3


SCHEMAS = {
    "catalog": strawberry.federation.Schema(query=CatalogQuery),
    "stock": strawberry.federation.Schema(query=StockQuery, types=[StockProduct]),
}
QUERY = """
query($withStock: Boolean!, $hideName: Boolean = false) {
  topProducts { name @skip(if: $hideName) ... @include(if: $withStock) { inStock } }
  warehouseCount @include(if: $withStock)
}
"""


async def test_one_plan_with_condition_nodes_serves_every_value() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare(QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Parallel {
            Sequence {
              Fetch(service: "catalog") {
                {
                  topProducts {
                    name @skip(if: $hideName)
                    __typename
                    upc
                  }
                }
              },
              Include(if: $withStock) {
                Flatten(path: "topProducts.@") {
                  Fetch(service: "stock") {
                    {
                      ... on Product {
                        __typename
                        upc
                      }
                    } =>
                    {
                      ... on Product {
                        inStock @include(if: $withStock)
                      }
                    }
                  },
                },
              },
            },
            Include(if: $withStock) {
              Fetch(service: "stock") {
                {
                  warehouseCount @include(if: $withStock)
                }
              },
            },
          },
        }"""
    )


async def test_each_value_gets_its_fields_and_only_the_fetches_it_needs() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY, {"withStock": True}) == {
        "data": {
            "topProducts": [
                {"name": "Table", "inStock": True},
                {"name": "Couch", "inStock": False},
            ],
            "warehouseCount": 3,
        }
    }
    assert sorted(transport.services) == ["catalog", "stock", "stock"]
    transport.requests.clear()
    assert await router.execute(QUERY, {"withStock": False, "hideName": True}) == {
        "data": {"topProducts": [{}, {}]}
    }
    assert transport.services == ["catalog"]
    assert await router.execute(QUERY, {"withStock": False}) == {
        "data": {"topProducts": [{"name": "Table"}, {"name": "Couch"}]}
    }
    assert (router.planner.plans_built, router.planner.cache_hits) == (1, 2)


async def test_a_field_selected_with_and_without_a_condition_stays() -> None:
    router, _ = router_over(SCHEMAS)
    query = """
    query($hide: Boolean!) {
      topProducts { upc name @skip(if: $hide) ... { name } }
    }
    """
    assert await router.execute(query, {"hide": True}) == {
        "data": {"topProducts": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}]}
    }
