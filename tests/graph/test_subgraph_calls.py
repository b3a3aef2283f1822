"""Per-subgraph timeouts and retries of the HTTP transport, over real sockets."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph.executor import HttpTransport
from graph.executor.calls import CallConfigError, SubgraphCalls
from tests.support.live import LiveServer


def flaky_subgraph(failures: int) -> tuple[Starlette, list[str]]:
    """Answers 503 to its first `failures` requests, then `{"data": {"n": 1}}`."""
    seen: list[str] = []

    async def graphql(request: Request) -> Response:
        seen.append((await request.json())["query"])
        if len(seen) <= failures:
            return Response("busy", status_code=503)
        return JSONResponse({"data": {"n": 1}})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]), seen


async def test_queries_are_retried_mutations_never() -> None:
    app, seen = flaky_subgraph(failures=2)
    async with LiveServer(app) as server:
        url = {"flaky": f"{server.url}/graphql"}
        transport = HttpTransport(url, calls=SubgraphCalls(retries_per={"flaky": 2}))
        try:
            answered = await transport.fetch("flaky", "{ n }", None)
            mutation = await transport.fetch("flaky", "mutation { n }", None)
        finally:
            await transport.close()
    assert answered == {"data": {"n": 1}}  # two 503s, then the answer
    assert mutation == {"data": {"n": 1}}
    assert seen == ["{ n }", "{ n }", "{ n }", "mutation { n }"]

    app, seen = flaky_subgraph(failures=5)
    async with LiveServer(app) as server:
        transport = HttpTransport({"flaky": f"{server.url}/graphql"}, calls=SubgraphCalls())
        try:
            failed = await transport.fetch("flaky", "{ n }", None)
        finally:
            await transport.close()
    assert failed["errors"][0]["message"] == 'Subgraph "flaky" answered HTTP 503.'
    assert len(seen) == 1  # no retries unless configured


async def test_a_subgraph_has_its_own_timeout() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{silent.sockets[0].getsockname()[1]}/graphql"
    calls = SubgraphCalls(timeout_seconds=30, timeouts={"silent": 0.2})
    transport = HttpTransport({"silent": url}, calls=calls)
    try:
        late = await transport.fetch("silent", "{ n }", None)
    finally:
        await transport.close()
        silent.close()
    assert late["errors"][0]["message"] == 'Subgraph "silent" did not answer within 0.2s.'


def test_settings_from_env() -> None:
    calls = SubgraphCalls.from_env(
        {
            "NEXUS_SUBGRAPH_TIMEOUT_SECONDS": "5",
            "NEXUS_SUBGRAPH_TIMEOUTS": "crypto=1.5, macro=20",
            "NEXUS_SUBGRAPH_RETRIES": "1",
            "NEXUS_SUBGRAPH_RETRIES_PER": "platform=0",
        }
    )
    assert (calls.timeout_of("crypto"), calls.timeout_of("micro"), calls.longest_timeout) == (
        1.5,
        5.0,
        20.0,
    )
    assert (calls.retries_of("platform"), calls.retries_of("crypto")) == (0, 1)
    with pytest.raises(CallConfigError, match="NEXUS_SUBGRAPH_RETRIES"):
        SubgraphCalls.from_env({"NEXUS_SUBGRAPH_RETRIES": "9"})
    with pytest.raises(CallConfigError, match="NEXUS_SUBGRAPH_TIMEOUTS"):
        SubgraphCalls.from_env({"NEXUS_SUBGRAPH_TIMEOUTS": "crypto"})
