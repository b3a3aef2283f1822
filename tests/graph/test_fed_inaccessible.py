"""@inaccessible: hidden values and types never reach clients, in data or introspection."""

from enum import Enum
from typing import Annotated

import strawberry

from tests.graph.support import router_over


@strawberry.federation.enum
class Status(Enum):
    ACTIVE = "ACTIVE"
    DELISTED = strawberry.federation.enum_value("DELISTED", inaccessible=True)


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID
    status: Status | None
    listing: Status


@strawberry.federation.type(inaccessible=True)
class Draft:
    id: strawberry.ID


SearchResult = Annotated[Product | Draft, strawberry.union("SearchResult")]


@strawberry.type
class Query:
    @strawberry.field
    def products(self) -> list[Product]:
        return [
            Product(id=strawberry.ID("p1"), status=Status.ACTIVE, listing=Status.ACTIVE),
            Product(id=strawberry.ID("p2"), status=Status.DELISTED, listing=Status.DELISTED),
        ]

    @strawberry.field
    def search(self) -> list[SearchResult | None]:
        return [Product(id=strawberry.ID("p1"), status=None, listing=Status.ACTIVE), Draft(id="d1")]


SCHEMAS = {"catalog": strawberry.federation.Schema(query=Query, types=[Draft])}


async def test_an_inaccessible_enum_value_becomes_null_with_an_error() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ products { id status } }")
    assert response["data"] == {
        "products": [{"id": "p1", "status": "ACTIVE"}, {"id": "p2", "status": None}]
    }
    (error,) = response["errors"]
    assert error["path"] == ["products", 1, "status"]
    assert "DELISTED" not in error["message"]
    assert error["extensions"]["code"] == "RESPONSE_VALIDATION_FAILED"


async def test_in_a_non_null_position_the_null_propagates() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ products { id listing } }")
    # `listing: Status!` in `[Product!]!`: nothing up to the root is nullable
    assert response["data"] is None
    assert [e["path"] for e in response["errors"]] == [["products", 1, "listing"]]


async def test_an_object_of_an_inaccessible_type_becomes_null_with_an_error() -> None:
    router, transport = router_over(SCHEMAS)
    response = await router.execute("{ search { __typename ... on Product { id } } }")
    assert response["data"] == {"search": [{"__typename": "Product", "id": "p1"}, None]}
    (error,) = response["errors"]
    assert error["path"] == ["search", 1]
    assert "Draft" not in error["message"]
    assert transport.services == ["catalog"]


async def test_introspection_shows_neither() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute(
        """{
          status: __type(name: "Status") { enumValues { name } }
          draft: __type(name: "Draft") { name }
          result: __type(name: "SearchResult") { possibleTypes { name } }
        }"""
    )
    assert response == {
        "data": {
            "status": {"enumValues": [{"name": "ACTIVE"}]},
            "draft": None,
            "result": {"possibleTypes": [{"name": "Product"}]},
        }
    }
