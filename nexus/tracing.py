"""OpenTelemetry traces: spans for requests, planning, subgraph fetches, store and engine calls.

`configure_tracing()` (called once per process by the `nexus` commands) installs the SDK's
tracer provider, so every span has real ids and every JSON log line inside a request carries
`trace_id` and `span_id`. Spans leave the process only when the standard variables ask for it:
`OTEL_TRACES_EXPORTER=otlp` or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP over HTTP/protobuf; the exporter reads the other
`OTEL_EXPORTER_OTLP_*` variables itself), `OTEL_TRACES_EXPORTER=console` for stdout.
`OTEL_SDK_DISABLED=true` turns tracing off altogether; `OTEL_SERVICE_NAME` names the process
(default `nexus-COMMAND`); `OTEL_TRACES_SAMPLER` picks the sampler as the SDK defines it.

The W3C `traceparent` header carries a trace from the router to a remote subgraph
(`inject_headers`) and into the subgraph's spans (`TraceContextMiddleware`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.id_generator import IdGenerator

log = logging.getLogger("nexus.tracing")

tracer = trace.get_tracer("nexus")

# Set by configure_tracing: whether this process's spans leave it. When they do not, only the
# SERVER span of each request is made (its ids are what log lines carry); the spans inside it
# (request, plan, one per subgraph fetch, store and engine calls) would be made and dropped,
# which cost about a tenth of the router's CPU per request. None: not configured here (a test's
# own tracer provider), every span is made.
_exported: bool | None = None
# Set by configure_tracing under OTEL_SDK_DISABLED=true: no span at all, not even the SERVER one
# (before, an unconfigured process made every span through the API's no-op tracer: 18% more of
# the router's CPU per request than with tracing on and nothing exported).
_off = False

Attributes = Mapping[str, str | int | float | bool]


def configure_tracing(service_name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Install the SDK tracer provider (once per process); True when spans are exported."""
    env = os.environ if environ is None else environ
    global _exported, _ids, _off
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        _exported, _off = False, True
        return False
    from opentelemetry.sdk.resources import OTEL_SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({} if env.get(OTEL_SERVICE_NAME) else {"service.name": service_name})
    provider = TracerProvider(resource=resource)
    exporters = {e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",")}
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    exported = False
    if "none" not in exporters and ("otlp" in exporters or endpoint):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        exported = True
    if "console" in exporters:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        exported = True
    trace.set_tracer_provider(provider)
    _exported, _off = exported, False
    _ids = provider.id_generator  # the ids of unexported SERVER spans, as the SDK makes them
    if exported:
        log.info("exporting traces", extra={"service": resource.attributes.get("service.name")})
    return exported


def shutdown_tracing() -> None:
    """Flush spans still batched (on exit)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if shutdown is not None:
        shutdown()


@contextmanager
def span(
    name: str, attributes: Attributes | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[trace.Span]:
    """A span around the block, current inside it; an exception marks it as an error. Spans
    other than SERVER ones are not made when configure_tracing found no exporter: the block
    gets a non-recording span and runs in the current one."""
    if _exported is False:
        if kind is not SpanKind.SERVER or _off:
            yield trace.INVALID_SPAN
            return
        # The SERVER span without the SDK's recording machinery (attributes, events, the span
        # processors' calls): its ids are all log lines and outgoing `traceparent` headers use.
        with trace.use_span(_unexported_span(), end_on_exit=False) as current:
            yield current
        return
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False
    ) as current:
        try:
            yield current
        except BaseException as error:
            current.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


def spans_recorded() -> bool:
    """Whether spans other than each request's SERVER span are made (see `span`): callers on
    a hot path skip building their span's name and attributes when they are not."""
    return _exported is not False


_ids: IdGenerator | None = None  # the installed provider's (set by configure_tracing)


def _unexported_span() -> trace.Span:
    """A non-recording span with fresh ids, in the current trace when there is one (a caller's
    `traceparent`), else in a new, sampled one: what the SDK's default sampler would make."""
    assert _ids is not None  # spans are unexported only once configure_tracing ran
    parent = trace.get_current_span().get_span_context()
    if parent.is_valid:
        context = SpanContext(
            parent.trace_id, _ids.generate_span_id(), False, parent.trace_flags, parent.trace_state
        )
    else:
        context = SpanContext(
            _ids.generate_trace_id(), _ids.generate_span_id(), False, TraceFlags(TraceFlags.SAMPLED)
        )
    return NonRecordingSpan(context)


def inject_headers(headers: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span to outgoing headers."""
    propagate.inject(headers)


def current_ids() -> tuple[str, str] | None:
    """The current span's trace id and span id as hex, when inside a valid span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class TraceContextMiddleware:
    """A SERVER span per HTTP request, continuing the caller's trace from `traceparent`.

    WebSocket connections and SSE streams are long-lived: they get no span of their own.
    """

    def __init__(self, app: Any, name: str = "http") -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if _off:  # OTEL_SDK_DISABLED=true: no span, no caller's trace carried on
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ()) if scope["type"] == "http" else {}
        if scope["type"] != "http" or b"text/event-stream" in headers.get(b"accept", b""):
            await self.app(scope, receive, send)  # long-lived streams get no request span
            return
        carrier = {
            key.decode("latin-1"): headers[key].decode("latin-1")
            for key in (b"traceparent", b"tracestate")
            if key in headers
        }
        parent = propagate.extract(carrier) if carrier else None
        token = otel_context.attach(parent) if parent is not None else None
        path = scope.get("path", "")
        status: dict[str, int] = {}

        async def send_with_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            with span(
                f"{scope.get('method', 'GET')} {path}",
                {"http.request.method": scope.get("method", ""), "url.path": path},
                kind=SpanKind.SERVER,
            ) as current:
                await self.app(scope, receive, send_with_status)
                if "code" in status:
                    current.set_attribute("http.response.status_code", status["code"])
                    if status["code"] >= 500:
                        current.set_status(Status(StatusCode.ERROR))
        finally:
            if token is not None:
                otel_context.detach(token)
