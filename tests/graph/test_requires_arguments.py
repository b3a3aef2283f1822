"""@requires naming a field with arguments: the router fetches it with those arguments."""

from textwrap import dedent
from typing import Any

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(name="Parcel", keys=["id"])
class CatalogParcel:
    id: strawberry.ID

    @strawberry.federation.field(shareable=True)
    def weight(self, unit: str = "kg") -> float:
        return 2.0 if unit == "kg" else 4.4


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def parcel(self) -> CatalogParcel:
        return CatalogParcel(id=strawberry.ID("p1"))


@strawberry.federation.type(name="Parcel", keys=["id"])
class ShippedParcel:
    id: strawberry.ID
    pounds: strawberry.Private[float]

    @strawberry.federation.field(external=True)
    def weight(self, unit: str = "kg") -> float:
        return self.pounds

    @strawberry.federation.field(requires=['weight(unit: "lb")'])
    def postage(self) -> float:
        return round(self.pounds * 1.5, 2)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, weight: float = 0.0) -> "ShippedParcel":
        return ShippedParcel(id=id, pounds=weight)


SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "catalog": {"query": CatalogQuery},
    "shipping": {"types": [ShippedParcel]},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


async def test_required_field_is_fetched_with_its_arguments() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute("{ parcel { weight postage } }") == {
        "data": {"parcel": {"weight": 2.0, "postage": 6.6}}
    }
    assert transport.requests[1][2] == {
        "representations": [{"__typename": "Parcel", "id": "p1", "weight": 4.4}]
    }


async def test_required_field_with_arguments_in_the_plan() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare("{ parcel { postage } }", None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                parcel {
                  __typename
                  id
                  weight(unit: "lb")
                }
              }
            },
            Flatten(path: "parcel") {
              Fetch(service: "shipping") {
                {
                  ... on Parcel {
                    __typename
                    id
                    weight(unit: "lb")
                  }
                } =>
                {
                  ... on Parcel {
                    postage
                  }
                }
              },
            },
          },
        }"""
    )
