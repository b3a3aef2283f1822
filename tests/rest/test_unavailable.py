"""A subgraph that cannot be reached: the REST client gets a 503 problem, not a 5xx page."""

from __future__ import annotations

import socket

import httpx

from graph.gateway import create_app
from graph.http_router import http_router
from nexus.assembly.schema_export import supergraph


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


async def test_an_unreachable_subgraph_is_a_503_problem() -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/graphql"
    urls = dict.fromkeys(("macro", "micro", "crypto", "platform"), dead)
    router = http_router(supergraph(urls), timeout=2.0)
    transport = httpx.ASGITransport(app=create_app(router))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as client:
            response = await client.get("/api/v1/tokens/BTC")
    finally:
        await router.close()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "SUBGRAPH_UNAVAILABLE" and problem["status"] == 503
    assert "Traceback" not in response.text


async def test_a_router_over_other_subgraphs_serves_no_rest_api() -> None:
    # The mapping's operations do not validate against this supergraph: no /api/v1 is mounted.
    from tests.graph.support import router_over
    from tests.graph.test_error_codes import SCHEMAS

    router, _ = router_over(SCHEMAS)
    transport = httpx.ASGITransport(app=create_app(router))
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as client:
        assert (await client.get("/api/v1/openapi.json")).status_code == 404
        assert (await client.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
