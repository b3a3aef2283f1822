"""Failing subgraphs: partial results, errors with paths, spec null propagation, HTTP failures."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import strawberry

from graph.compose import SubgraphSDL, compose_supergraph
from graph.executor import HttpTransport, InProcessTransport
from graph.in_process import subgraph_sdl
from graph.router import Router
from tests.graph.support import router_over
from tests.support.processes import free_port

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


Answer = Callable[[bytes], tuple[int, bytes]]


class FakeSubgraphs:
    """A SubgraphClient without a network: `listing` runs its schema, `prices` answers `prices`."""

    def __init__(self, prices: Answer) -> None:
        self.prices = prices

    async def post(self, url: str, body: bytes) -> tuple[int, bytes]:
        if url.startswith("http://prices.test/"):
            return self.prices(body)
        request = json.loads(body)
        result = await SCHEMAS["listing"].execute(request["query"], request.get("variables"))
        return 200, json.dumps({"data": result.data}).encode()

    async def close(self) -> None:
        return None


def _http_router(prices: Answer) -> Router:
    supergraph = compose_supergraph(
        [
            SubgraphSDL(name, f"http://{name}.test/graphql", subgraph_sdl(schema))
            for name, schema in SCHEMAS.items()
        ]
    )
    urls = {"listing": "http://listing.test/graphql", "prices": "http://prices.test/graphql"}
    return Router.from_supergraph_sdl(supergraph, HttpTransport(urls, client=FakeSubgraphs(prices)))


def _raise(error: Exception) -> Answer:
    def answer(body: bytes) -> tuple[int, bytes]:
        raise error

    return answer


@pytest.mark.parametrize(
    ("prices", "code", "message"),
    [
        (
            lambda body: (502, b"Bad Gateway"),
            "SUBGRAPH_ERROR",
            'Subgraph "prices" answered HTTP 502.',
        ),
        (
            lambda body: (200, b"<html>oops</html>"),
            "SUBGRAPH_ERROR",
            'Subgraph "prices" answered something that is not a GraphQL response.',
        ),
        (
            _raise(ConnectionRefusedError()),
            "SUBGRAPH_UNAVAILABLE",
            'Subgraph "prices" is unreachable (ConnectionRefusedError).',
        ),
        (
            _raise(TimeoutError()),
            "SUBGRAPH_UNAVAILABLE",
            'Subgraph "prices" did not answer within 10s.',
        ),
    ],
)
async def test_http_subgraph_failures_become_coded_errors(
    prices: Answer, code: str, message: str
) -> None:
    router = _http_router(prices)
    response = await router.execute("{ coins { symbol price } }")
    assert response["data"] == {
        "coins": [{"symbol": "BTC", "price": None}, {"symbol": "ETH", "price": None}]
    }
    [error] = response["errors"]
    assert error["message"] == message
    assert (error["extensions"]["code"], error["extensions"]["serviceName"]) == (code, "prices")


async def test_unreachable_and_silent_subgraphs_over_real_sockets() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the router gives up and closes the connection
        writer.close()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    urls = {
        "closed": f"http://127.0.0.1:{free_port()}/graphql",
        "silent": f"http://127.0.0.1:{silent_port}/graphql",
    }
    transport = HttpTransport(urls, timeout=0.2)
    try:
        closed = await transport.fetch("closed", "{ n }", None)
        slow = await transport.fetch("silent", "{ n }", None)
    finally:
        await transport.close()
        silent.close()
    assert closed["errors"][0]["message"].startswith('Subgraph "closed" is unreachable (')
    assert slow["errors"][0]["message"] == 'Subgraph "silent" did not answer within 0.2s.'
    assert {closed["errors"][0]["extensions"]["code"], slow["errors"][0]["extensions"]["code"]} == {
        "SUBGRAPH_UNAVAILABLE"
    }


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

    class Counting:
        async def post(self, url: str, body: bytes) -> tuple[int, bytes]:
            seen.append(body)
            await asyncio.sleep(0.05)
            return 200, json.dumps({"data": {"n": len(seen)}}).encode()

        async def close(self) -> None:
            return None

    transport = HttpTransport({"s": "http://s.test/graphql"}, client=Counting())
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
