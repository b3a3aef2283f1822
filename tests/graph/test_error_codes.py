"""Every error a client receives carries `extensions.code`, whoever produced it."""

from __future__ import annotations

from typing import Any

import httpx
import strawberry

from graph.gateway import create_app
from tests.graph.support import router_over

VANISHED: set[str] = set()


@strawberry.federation.type(name="Bond", keys=["isin"])
class ListedBond:
    isin: strawberry.ID


@strawberry.type(name="Query")
class ListingQuery:
    @strawberry.field
    def bonds(self) -> list[ListedBond | None]:
        return [ListedBond(isin=strawberry.ID(i)) for i in ("US912810TM09", "US91282CJL54")]


@strawberry.federation.type(name="Bond", keys=["isin"])
class PricedBond:
    isin: strawberry.ID

    @strawberry.field
    def coupon(self) -> float:
        return 4.25

    @strawberry.field
    def duration(self) -> float:
        raise ValueError("no curve for this date")

    @classmethod
    def resolve_reference(cls, isin: strawberry.ID) -> PricedBond | None:
        # A subgraph that answers null for an entity it does not know, without an error.
        return None if isin in VANISHED else PricedBond(isin=isin)


SCHEMAS = {
    # Plain Strawberry schemas: their errors carry no code of their own.
    "listing": strawberry.federation.Schema(query=ListingQuery),
    "pricing": strawberry.federation.Schema(types=[PricedBond]),
}


def _codes(response: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in response["errors"]]


async def test_null_propagation_error_has_a_code() -> None:
    VANISHED.add("US91282CJL54")
    try:
        router, _ = router_over(SCHEMAS)
        response = await router.execute("{ bonds { isin coupon } }")
    finally:
        VANISHED.clear()
    assert response["data"] == {"bonds": [{"isin": "US912810TM09", "coupon": 4.25}, None]}
    [error] = response["errors"]
    assert error["message"] == "Cannot return null for non-nullable field Bond.coupon."
    assert error["path"] == ["bonds", 1, "coupon"]
    assert error["extensions"] == {"code": "RESPONSE_VALIDATION_FAILED"}


async def test_uncoded_subgraph_error_gets_a_code() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ bonds { duration } }")
    assert response["data"] == {"bonds": [None, None]}
    assert set(_codes(response)) == {"SUBGRAPH_ERROR"}
    assert {e["extensions"]["serviceName"] for e in response["errors"]} == {"pricing"}


async def test_http_request_errors_have_codes() -> None:
    router, _ = router_over(SCHEMAS)
    app = create_app(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        unacceptable = await client.post(
            "/graphql", json={"query": "{ bonds { isin } }"}, headers={"accept": "text/csv"}
        )
        no_query = await client.post("/graphql", json={"variables": {}})
        unknown_field = await client.post("/graphql", json={"query": "{ bonds { yield } }"})
        unparsable = await client.post("/graphql", json={"query": "{ bonds {"})
    assert unacceptable.status_code == 406
    assert _codes(unacceptable.json()) == ["BAD_REQUEST"]
    assert _codes(no_query.json()) == ["BAD_REQUEST"]
    assert _codes(unknown_field.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert _codes(unparsable.json()) == ["GRAPHQL_PARSE_FAILED"]
