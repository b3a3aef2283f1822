"""Failing subgraphs: partial results, errors with paths, spec null propagation, HTTP failures."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import strawberry

from graph.compose import SubgraphSDL, compose_supergraph
from graph.executor import HttpTransport, InProcessTransport
from graph.in_process import subgraph_sdl
from graph.router import Router
from tests.graph.support import router_over

BROKEN: set[str] = set()


@strawberry.federation.type(name="Coin", keys=["id"])
class ListedCoin:
    id: strawberry.ID
    symbol: str


@strawberry.type(name="Query")
class ListingQuery:
    @strawberry.field
    def coins(self) -> list[ListedCoin | None]:
        return [ListedCoin(id=strawberry.ID(i), symbol=s) for i, s in (("1", "BTC"), ("2", "ETH"))]


@strawberry.federation.type(name="Coin", keys=["id"])
class PricedCoin:
    id: strawberry.ID

    @strawberry.field
    def price(self) -> float | None:
        if self.id in BROKEN:
            raise ValueError("price feed is down")
        return 100.0 * int(self.id)

    @strawberry.field
    def rank(self) -> int:
        if "rank" in BROKEN:
            raise ValueError("no rank")
        return int(self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "PricedCoin":
        if "all" in BROKEN:
            raise RuntimeError("database unreachable")
        return PricedCoin(id=id)


SCHEMAS = {
    "listing": strawberry.federation.Schema(query=ListingQuery),
    "prices": strawberry.federation.Schema(types=[PricedCoin]),
}


@pytest.fixture(autouse=True)
def _healthy() -> None:
    BROKEN.clear()


async def test_field_error_in_an_entity_keeps_its_path() -> None:
    BROKEN.add("2")
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ coins { symbol price } }")
    assert response["data"] == {
        "coins": [{"symbol": "BTC", "price": 100.0}, {"symbol": "ETH", "price": None}]
    }
    [error] = response["errors"]
    assert error["message"] == "price feed is down"
    assert error["path"] == ["coins", 1, "price"]
    assert error["extensions"]["serviceName"] == "prices"


async def test_null_in_non_null_field_nulls_the_nearest_nullable_parent() -> None:
    BROKEN.add("rank")
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ coins { symbol rank } }")
    assert response["data"] == {"coins": [None, None]}
    assert [e["path"] for e in response["errors"]] == [["coins", 0, "rank"], ["coins", 1, "rank"]]


async def test_failing_subgraph_only_nulls_the_fields_it_owns() -> None:
    BROKEN.add("all")
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ coins { symbol price } }")
    assert response["data"] == {
        "coins": [{"symbol": "BTC", "price": None}, {"symbol": "ETH", "price": None}]
    }
    assert {e["extensions"]["serviceName"] for e in response["errors"]} == {"prices"}


def _http_router(prices: Callable[[httpx.Request], httpx.Response]) -> Router:
    supergraph = compose_supergraph(
        [
            SubgraphSDL(name, f"http://{name}.test/graphql", subgraph_sdl(schema))
            for name, schema in SCHEMAS.items()
        ]
    )

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "prices.test":
            return prices(request)
        body = json.loads(request.content)
        result = await SCHEMAS["listing"].execute(body["query"], body.get("variables"))
        return httpx.Response(200, json={"data": result.data})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    urls = {"listing": "http://listing.test/graphql", "prices": "http://prices.test/graphql"}
    return Router.from_supergraph_sdl(supergraph, HttpTransport(urls, client=client))


def _raise(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("prices", "code", "message"),
    [
        (
            lambda r: httpx.Response(502, text="Bad Gateway"),
            "SUBGRAPH_ERROR",
            'Subgraph "prices" answered HTTP 502.',
        ),
        (
            lambda r: httpx.Response(200, text="<html>oops</html>"),
            "SUBGRAPH_ERROR",
            'Subgraph "prices" answered something that is not a GraphQL response.',
        ),
        (
            _raise(httpx.ConnectError("refused")),
            "SUBGRAPH_UNAVAILABLE",
            'Subgraph "prices" is unreachable (ConnectError).',
        ),
        (
            _raise(httpx.ReadTimeout("slow")),
            "SUBGRAPH_UNAVAILABLE",
            'Subgraph "prices" did not answer within 10s.',
        ),
    ],
)
async def test_http_subgraph_failures_become_coded_errors(
    prices: Callable[[httpx.Request], httpx.Response], code: str, message: str
) -> None:
    router = _http_router(prices)
    response = await router.execute("{ coins { symbol price } }")
    assert response["data"] == {
        "coins": [{"symbol": "BTC", "price": None}, {"symbol": "ETH", "price": None}]
    }
    [error] = response["errors"]
    assert error["message"] == message
    assert (error["extensions"]["code"], error["extensions"]["serviceName"]) == (code, "prices")


async def test_slow_in_process_subgraph_times_out() -> None:
    async def slow(query: str, variables: dict[str, Any] | None) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"data": None}

    router, _ = router_over(SCHEMAS)
    assert isinstance(router.transport, InProcessTransport)
    router.transport.calls["prices"] = slow
    router.transport.timeout = 0.05
    response = await router.execute("{ coins { symbol price } }")
    assert response["data"] == {
        "coins": [{"symbol": "BTC", "price": None}, {"symbol": "ETH", "price": None}]
    }
    assert response["errors"][0]["extensions"] == {
        "code": "SUBGRAPH_UNAVAILABLE",
        "serviceName": "prices",
    }


async def test_identical_queries_in_flight_share_one_http_request() -> None:
    seen: list[bytes] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        await asyncio.sleep(0.05)
        return httpx.Response(200, json={"data": {"n": len(seen)}})

    transport = HttpTransport(
        {"s": "http://s.test/graphql"},
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    first, second, _ = await asyncio.gather(
        transport.fetch("s", "{ n }", None),
        transport.fetch("s", "{ n }", None),
        transport.fetch("s", "{ n }", {"x": 1}),
    )
    assert first == second
    assert first is not second  # each caller may merge into its own copy
    assert len(seen) == 2
    await asyncio.gather(
        transport.fetch("s", "mutation { n }", None), transport.fetch("s", "mutation { n }", None)
    )
    assert len(seen) == 4
