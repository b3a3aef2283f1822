"""OpenTelemetry spans of a request, seen through the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import strawberry
import uvicorn
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graph.compose import SubgraphSDL, compose_supergraph
from graph.executor import HttpTransport
from graph.in_process import router_for_subgraphs, subgraph_sdl
from graph.router import Router
from nexus.assembly.registry import load_subgraph
from nexus.config import Settings
from nexus.logs import JsonFormatter
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.platform import PlatformStore, upgrade
from nexus.tracing import TraceContextMiddleware
from tests.graph.support import router_over
from tests.graph.test_error_codes import SCHEMAS
from tests.ops.conftest import by_name
from tests.support.processes import free_port

PRICES = "query BondPrices { bonds { isin coupon } }"


async def test_a_request_is_one_trace_of_plan_and_fetches(spans: InMemorySpanExporter) -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute(PRICES)
    assert "errors" not in response
    finished = by_name(spans.get_finished_spans())
    request = finished["graphql.request"]
    assert request.parent is None
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "BondPrices"
    for name in ("graphql.plan", "fetch listing", "fetch pricing"):
        child = finished[name]
        assert child.context.trace_id == request.context.trace_id, name
        assert child.parent is not None and child.parent.span_id == request.context.span_id
    assert finished["fetch pricing"].kind is SpanKind.CLIENT
    # A cached plan is not planned again: no second planning span.
    spans.clear()
    await router.execute(PRICES)
    assert "graphql.plan" not in by_name(spans.get_finished_spans())


async def test_store_queries_are_spans_under_their_fetch(
    spans: InMemorySpanExporter, analytics: ChdbStore, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'platform.db'}"
    await upgrade(database_url)
    platform = PlatformStore.from_url(database_url)
    stores = Stores(Settings.from_env({}), platform=platform, analytics=analytics)
    router = router_for_subgraphs([load_subgraph("crypto"), load_subgraph("platform")], stores)
    try:
        response = await router.execute(
            '{ token(symbol: "BTC") { latestPrice { close } } '
            "publicWatchlists { name } }"
        )
    finally:
        await platform.close()
    assert response == {
        "data": {"token": {"latestPrice": {"close": 17003.017578}}, "publicWatchlists": []}
    }
    finished = spans.get_finished_spans()
    fetches = {s.name: s for s in finished if s.name.startswith("fetch ")}
    clickhouse = [s for s in finished if s.name.startswith("clickhouse ")]
    sqlite = [s for s in finished if s.name.startswith("sqlite ")]
    assert clickhouse and sqlite
    for store_span in clickhouse:
        assert store_span.parent is not None
        assert store_span.parent.span_id == fetches["fetch crypto"].context.span_id
        assert store_span.attributes is not None
        assert store_span.attributes["db.system"] == "clickhouse"
    for store_span in sqlite:
        assert store_span.parent is not None
        assert store_span.parent.span_id == fetches["fetch platform"].context.span_id
    assert {s.context.trace_id for s in finished} == {fetches["fetch crypto"].context.trace_id}


@strawberry.type
class AuditedQuery:
    @strawberry.field(description="Logs a line while it resolves.")
    def audited(self) -> int:
        logging.getLogger("tests.ops.audit").warning("resolving audited")
        return 1


async def test_json_log_lines_in_a_request_carry_its_ids(spans: InMemorySpanExporter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.ops.audit")
    logger.addHandler(handler)
    try:
        router, _ = router_over({"audit": strawberry.federation.Schema(query=AuditedQuery)})
        assert await router.execute("{ audited }") == {"data": {"audited": 1}}
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    fetch = by_name(spans.get_finished_spans())["fetch audit"]
    assert inside["message"] == "resolving audited"
    assert inside["trace_id"] == format(fetch.context.trace_id, "032x")
    assert inside["span_id"] == format(fetch.context.span_id, "016x")
    assert "trace_id" not in outside and "span_id" not in outside


@pytest.fixture
async def subgraphs_over_http() -> AsyncIterator[dict[str, str]]:
    """Both test subgraphs served over real HTTP, with the trace middleware, on a free port."""
    routes = [
        Route(f"/{name}", GraphQL(schema), methods=["POST"]) for name, schema in SCHEMAS.items()
    ]
    app = TraceContextMiddleware(Starlette(routes=routes))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield {name: f"http://127.0.0.1:{port}/{name}" for name in SCHEMAS}
    server.should_exit = True
    await task


async def test_traceparent_carries_the_trace_to_remote_subgraphs(
    spans: InMemorySpanExporter, subgraphs_over_http: dict[str, str]
) -> None:
    supergraph = compose_supergraph(
        [
            SubgraphSDL(name, subgraphs_over_http[name], subgraph_sdl(schema))
            for name, schema in SCHEMAS.items()
        ]
    )
    router = Router.from_supergraph_sdl(supergraph, HttpTransport(subgraphs_over_http))
    try:
        response = await router.execute(PRICES)
    finally:
        await router.close()
    assert response["data"]["bonds"][0] == {"isin": "US912810TM09", "coupon": 4.25}
    finished = spans.get_finished_spans()
    servers = {s.name: s for s in finished if s.kind is SpanKind.SERVER}
    for name in SCHEMAS:
        fetch = by_name(finished)[f"fetch {name}"]
        server = servers[f"POST /{name}"]  # the subgraph's own span, from its traceparent
        assert server.context.trace_id == fetch.context.trace_id
        assert server.parent is not None and server.parent.is_remote
        assert server.parent.span_id == fetch.context.span_id


def test_without_an_exporter_only_the_request_span_is_made() -> None:
    """`nexus` processes that export nothing make the SERVER span (log lines carry its ids) and
    skip the spans inside it; with an exporter every span is made. Each in a fresh interpreter,
    as the tracer provider is set once per process."""
    import subprocess
    import sys

    # Printed: the SERVER span has ids, the CLIENT span inside it is recorded, both are in one
    # trace; then, under a caller's traceparent, the SERVER span's trace id and the traceparent
    # a subgraph request would carry (the caller's trace, this span's id).
    script = (
        "import json, sys\n"
        "from opentelemetry import context, propagate\n"
        "from opentelemetry.trace import SpanKind\n"
        "from nexus.tracing import configure_tracing, inject_headers, span\n"
        "configure_tracing('nexus-test', json.loads(sys.argv[1]))\n"
        "with span('POST /graphql', kind=SpanKind.SERVER) as server:\n"
        "    with span('fetch crypto', kind=SpanKind.CLIENT) as fetch:\n"
        "        print(json.dumps([server.get_span_context().is_valid, fetch.is_recording(),\n"
        "            fetch.get_span_context().trace_id == server.get_span_context().trace_id]))\n"
        "parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'\n"
        "caller = {'traceparent': parent}\n"
        "token = context.attach(propagate.extract(caller))\n"
        "with span('POST /graphql', kind=SpanKind.SERVER) as server:\n"
        "    headers = {}\n"
        "    inject_headers(headers)\n"
        "    ids = server.get_span_context()\n"
        "    print(json.dumps([format(ids.trace_id, '032x'), format(ids.span_id, '016x'),\n"
        "        headers.get('traceparent')]))\n"
        "context.detach(token)\n"
    )

    def printed(environ: dict[str, str]) -> tuple[list[bool], list[str]]:
        run = subprocess.run(
            [sys.executable, "-c", script, json.dumps(environ)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        lines = run.stdout.splitlines()
        return json.loads(lines[0]), json.loads(lines[1])

    console = {"OTEL_TRACES_EXPORTER": "console"}
    for environ, made in (({}, [True, False, False]), (console, [True, True, True])):
        recorded, (trace_id, span_id, traceparent) = printed(environ)
        assert recorded == made
        assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"  # the caller's trace continues
        assert span_id not in ("00f067aa0ba902b7", "0" * 16)  # in a span of its own
        assert traceparent == f"00-{trace_id}-{span_id}-01"


def test_with_the_sdk_disabled_no_span_is_made_and_no_trace_is_carried_on() -> None:
    """OTEL_SDK_DISABLED=true: no span at all (the SERVER one neither), so log lines carry no
    ids and subgraph requests no `traceparent`, even under a caller's; the request itself is
    served as usual. In a fresh interpreter, as the tracer provider is set once per process."""
    import subprocess
    import sys

    script = (
        "import asyncio, json\n"
        "from opentelemetry.trace import SpanKind\n"
        "from nexus.tracing import (TraceContextMiddleware, configure_tracing, current_ids,\n"
        "    inject_headers, span, spans_recorded)\n"
        "print(json.dumps(configure_tracing('nexus-test', {'OTEL_SDK_DISABLED': 'true'})))\n"
        "seen = {}\n"
        "async def app(scope, receive, send):\n"
        "    with span('graphql.request') as inner:\n"
        "        headers = {}\n"
        "        inject_headers(headers)\n"
        "        seen.update(ids=current_ids(), headers=headers, recording=inner.is_recording(),\n"
        "                    recorded=spans_recorded())\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'ok'})\n"
        "sent = []\n"
        "async def send(message):\n"
        "    sent.append(message['type'])\n"
        "async def receive():\n"
        "    return {'type': 'http.request', 'body': b''}\n"
        "parent = b'00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'\n"
        "scope = {'type': 'http', 'method': 'POST', 'path': '/graphql',\n"
        "         'headers': [(b'traceparent', parent)]}\n"
        "asyncio.run(TraceContextMiddleware(app)(scope, receive, send))\n"
        "with span('POST /graphql', kind=SpanKind.SERVER) as server:\n"
        "    seen['server_valid'] = server.get_span_context().is_valid\n"
        "print(json.dumps({**seen, 'sent': sent}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    exported, seen = (json.loads(line) for line in run.stdout.splitlines()[-2:])
    assert exported is False
    assert seen == {
        "ids": None,  # no trace or span id for log lines
        "headers": {},  # no traceparent to subgraphs, not even the caller's
        "recording": False,
        "recorded": False,  # hot paths skip building span names and attributes
        "server_valid": False,
        "sent": ["http.response.start", "http.response.body"],  # served as usual
    }
