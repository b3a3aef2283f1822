"""Choosing the subgraph an entity jump goes to: two subgraphs resolve `Product.details` from the
catalog's products, but only one of them also resolves `Details.warranty`, which the client asks
for below it. Jumping to that one answers both levels in one `_entities` call; the other (first
by name) would need a second, sequential jump for `warranty`."""

from textwrap import dedent

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    name: str


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def products(self) -> list[Product]:
        return [Product(upc="1", name="Table"), Product(upc="2", name="Couch")]


@strawberry.federation.type(name="Details", keys=["id"])
class AlphaDetails:
    id: strawberry.ID
    summary: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "AlphaDetails":
        return AlphaDetails(id=id, summary=f"details of {id}")


@strawberry.federation.type(name="Product", keys=["upc"])
class AlphaProduct:
    upc: str

    @strawberry.federation.field(shareable=True)
    def details(self) -> AlphaDetails:
        return AlphaDetails(id=strawberry.ID(f"d{self.upc}"), summary=f"details of d{self.upc}")

    @classmethod
    def resolve_reference(cls, upc: str) -> "AlphaProduct":
        return AlphaProduct(upc=upc)


@strawberry.federation.type(name="Details", keys=["id"])
class BetaDetails:
    id: strawberry.ID
    summary: str = strawberry.federation.field(shareable=True)

    @strawberry.field(description="Warranty length in months.")
    def warranty_months(self) -> int:
        return {"d1": 24, "d2": 12}[self.id]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "BetaDetails":
        return BetaDetails(id=id, summary=f"details of {id}")


@strawberry.federation.type(name="Product", keys=["upc"])
class BetaProduct:
    upc: str

    @strawberry.federation.field(shareable=True)
    def details(self) -> BetaDetails:
        return BetaDetails(id=strawberry.ID(f"d{self.upc}"), summary=f"details of d{self.upc}")

    @classmethod
    def resolve_reference(cls, upc: str) -> "BetaProduct":
        return BetaProduct(upc=upc)


SCHEMAS = {
    "catalog": strawberry.federation.Schema(query=CatalogQuery),
    "alpha": strawberry.federation.Schema(types=[AlphaProduct, AlphaDetails]),
    "beta": strawberry.federation.Schema(types=[BetaProduct, BetaDetails]),
}
QUERY = "{ products { name details { summary warrantyMonths } } }"


async def test_one_jump_answers_details_and_warranty() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY) == {
        "data": {
            "products": [
                {"name": "Table", "details": {"summary": "details of d1", "warrantyMonths": 24}},
                {"name": "Couch", "details": {"summary": "details of d2", "warrantyMonths": 12}},
            ]
        }
    }
    assert transport.services == ["catalog", "beta"]


async def test_the_plan_jumps_to_the_subgraph_resolving_the_whole_selection() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare(QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                products {
                  name
                  __typename
                  upc
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "beta") {
                {
                  ... on Product {
                    __typename
                    upc
                  }
                } =>
                {
                  ... on Product {
                    details {
                      summary
                      warrantyMonths
                    }
                  }
                }
              },
            },
          },
        }"""
    )
