"""@requires of one field with different arguments in one operation: internal aliases in the
parent fetch, one representation (and `_entities` call) per set of arguments."""

from textwrap import dedent

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
    def parcels(self) -> list[CatalogParcel]:
        return [CatalogParcel(id=strawberry.ID("p1"))]


@strawberry.federation.type(name="Parcel", keys=["id"])
class ShippedParcel:
    id: strawberry.ID
    received: strawberry.Private[float]  # the weight in the representation, in its unit

    @strawberry.federation.field(external=True)
    def weight(self, unit: str = "kg") -> float:
        return self.received

    @strawberry.federation.field(requires=['weight(unit: "lb")'])
    def postage_usd(self) -> float:
        return round(self.received * 1.5, 2)

    @strawberry.federation.field(requires=['weight(unit: "kg")'])
    def postage_eur(self) -> float:
        return round(self.received * 3.0, 2)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, weight: float = 0.0) -> "ShippedParcel":
        return ShippedParcel(id=id, received=weight)


SCHEMAS = {
    "catalog": strawberry.federation.Schema(query=CatalogQuery),
    "shipping": strawberry.federation.Schema(types=[ShippedParcel]),
}
QUERY = "{ parcels { weight postageUsd postageEur } }"


async def test_each_argument_set_gets_its_own_alias_and_representation() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY) == {
        "data": {"parcels": [{"weight": 2.0, "postageUsd": 6.6, "postageEur": 6.0}]}
    }
    sent = sorted(str(variables) for service, _, variables in transport.requests[1:])
    assert sent == [
        "{'representations': [{'__typename': 'Parcel', 'id': 'p1', 'weight': 2.0}]}",
        "{'representations': [{'__typename': 'Parcel', 'id': 'p1', 'weight': 4.4}]}",
    ]


async def test_the_plan_aliases_the_required_field_per_argument_set() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare(QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                parcels {
                  weight
                  __typename
                  id
                  weight_: weight(unit: "lb")
                  weight__: weight(unit: "kg")
                }
              }
            },
            Parallel {
              Flatten(path: "parcels.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Parcel {
                      __typename
                      id
                      weight_: weight(unit: "lb")
                    }
                  } =>
                  {
                    ... on Parcel {
                      postageUsd
                    }
                  }
                },
              },
              Flatten(path: "parcels.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Parcel {
                      __typename
                      id
                      weight__: weight(unit: "kg")
                    }
                  } =>
                  {
                    ... on Parcel {
                      postageEur
                    }
                  }
                },
              },
            },
          },
        }"""
    )
