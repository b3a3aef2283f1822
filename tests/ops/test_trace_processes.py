"""One trace across two processes: `nexus router` and `nexus subgraph crypto`, each exporting
its spans over OTLP/HTTP (the real exporter, configured by OTEL_* variables) to a collector
this test runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from nexus.assembly.schema_export import supergraph
from tests.support.processes import NexusProcess, free_port


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: decodes each export request's protobuf body."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _ExportHandler)
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ExportHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                received += [
                    ReceivedSpan(
                        attributes.get("service.name", ""),
                        span.name,
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                    )
                    for span in scope.spans
                ]
        with self.server.lock:
            self.server.spans += received
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_a_query_is_one_trace_across_router_and_subgraph_processes(
    collector: Collector, tmp_path: Path
) -> None:
    exporting = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between batch exports
    }
    crypto = NexusProcess(["subgraph", "crypto"], tmp_path / "crypto", "crypto", env=exporting)
    router = None
    try:
        crypto.wait()
        crypto_url = f"{crypto.url}/graphql"
        supergraph_file = tmp_path / "supergraph.graphql"
        supergraph_file.write_text(supergraph({"crypto": crypto_url}))
        router = NexusProcess(
            ["router", "--supergraph", str(supergraph_file), f"--subgraph-url=crypto={crypto_url}"],
            tmp_path / "router",
            "router",
            env=exporting,
        )
        router.wait("/healthz")
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        caller_span = "00f067aa0ba902b7"
        response = httpx.post(
            f"{router.url}/graphql",
            json={"query": '{ token(symbol: "BTC") { name latestPrice { close } } }'},
            headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
            timeout=30,
        )
        assert response.json()["data"] == {
            "token": {"name": "Bitcoin", "latestPrice": {"close": 17003.017578}}
        }

        def trace() -> list[ReceivedSpan]:
            with collector.lock:
                return [s for s in collector.spans if s.trace_id == trace_id]

        expected = {
            ("nexus-router", "POST /graphql"),
            ("nexus-router", "graphql.request"),
            ("nexus-router", "fetch crypto"),
            ("nexus-subgraph-crypto", "POST /graphql"),
            ("nexus-subgraph-crypto", "clickhouse SELECT"),
        }
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if expected <= {(s.service, s.name) for s in trace()}:
                break
            time.sleep(0.2)
        spans = trace()
    finally:
        if router is not None:
            router.stop()
        crypto.stop()

    by_name = {(s.service, s.name): s for s in spans}
    router_request = by_name[("nexus-router", "POST /graphql")]
    assert router_request.parent_span_id == caller_span  # the caller's traceparent continued
    fetch = by_name[("nexus-router", "fetch crypto")]
    subgraph_request = by_name[("nexus-subgraph-crypto", "POST /graphql")]
    assert subgraph_request.parent_span_id == fetch.span_id  # over HTTP, by traceparent
    store_spans = [
        s for s in spans if s.service == "nexus-subgraph-crypto" and "clickhouse" in s.name
    ]
    assert store_spans
    assert all(s.parent_span_id == subgraph_request.span_id for s in store_spans)
