"""Prometheus metrics: the named metrics every layer records, and the `/metrics` exposition.

One module holds every metric so names, labels and buckets are decided once. Label values are
bounded: operation names are capped per process (`operation_label`), subgraph and store names
come from code, outcomes from a fixed set.

Several worker processes (uvicorn `--workers`, gunicorn) share one exposition when
PROMETHEUS_MULTIPROC_DIR names an empty, writable directory in every worker's environment
before it starts: each process writes its values there and `/metrics` aggregates them
(prometheus-client's multiprocess mode; gauges of open subscriptions are summed over live
processes).
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client import values as _values

# No `*_created` series: they double a scrape for a timestamp nobody graphs.
disable_created_metrics()

P = ParamSpec("P")
R = TypeVar("R")

# Request-scale latencies: 1 ms to 30 s.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Store and engine calls are often sub-millisecond.
_FAST_SECONDS = (0.0001, 0.00025, 0.0005, *_SECONDS)

REQUESTS = Counter(
    "nexus_graphql_requests",
    "GraphQL operations answered, by operation name and outcome (ok: no errors; partial: data "
    "with errors; rejected: no data, e.g. a parse, validation or limit error; failed: the "
    "server failed).",
    ["operation", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "nexus_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation (parse, plan, fetches, shaping), by operation name.",
    ["operation"],
    buckets=_SECONDS,
)
SUBGRAPH_FETCH_SECONDS = Histogram(
    "nexus_subgraph_fetch_duration_seconds",
    "Time of one fetch from a subgraph (in-process or HTTP), by subgraph and outcome "
    "(ok, errors: the subgraph answered with errors).",
    ["subgraph", "outcome"],
    buckets=_SECONDS,
)
PLAN_CACHE = Counter(
    "nexus_plan_cache_lookups",
    "Query-plan cache lookups, by result (hit, miss).",
    ["result"],
)
ENTITY_CACHE = Counter(
    "nexus_entity_cache_lookups",
    "Entity and response cache lookups of the router, by subgraph and result (hit, miss): one "
    "per entity representation or root fetch looked up.",
    ["subgraph", "result"],
)
ENTITY_CACHE_HIT_RATIO = Gauge(
    "nexus_entity_cache_hit_ratio",
    "Hits over lookups of the router's entity and response cache since the process started "
    "(0 to 1).",
    multiprocess_mode="mostrecent",
)
OPEN_SUBSCRIPTIONS = Gauge(
    "nexus_subscriptions_open",
    "Client subscription operations open now (WebSocket and SSE).",
    multiprocess_mode="livesum",
)
DELIVERED_EVENTS = Counter(
    "nexus_subscription_events_delivered",
    "Subscription events handed to clients (one per client per event).",
)
BUS_LAG_SECONDS = Histogram(
    "nexus_bus_event_lag_seconds",
    "Time from an event's publication on the bus to a subscription resolver reading it, by "
    "channel family (the channel's first segment: market, social, alert, simulation).",
    ["family"],
    buckets=_FAST_SECONDS,
)
ENGINE_CALL_SECONDS = Histogram(
    "nexus_engine_call_duration_seconds",
    "Time of one engine call (a batched, jitted computation), by engine function.",
    ["function"],
    buckets=_FAST_SECONDS,
)
STORE_QUERY_SECONDS = Histogram(
    "nexus_store_query_duration_seconds",
    "Time of one store round trip, by store (platform, analytics, vectors) and outcome "
    "(ok, error).",
    ["store", "outcome"],
    buckets=_FAST_SECONDS,
)
RATE_LIMITED = Counter(
    "nexus_rate_limited_requests",
    "Requests refused by a rate limit or cost budget, by reason (a short fixed name such as "
    "`rate`, `cost`).",
    ["reason"],
)

OUTCOMES = frozenset({"ok", "partial", "rejected", "failed"})
MAX_OPERATION_NAMES = 100  # distinct operation label values per process; later ones are "other"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_operations: set[str] = set()
_operations_lock = threading.Lock()


def operation_label(operation_name: str | None) -> str:
    """The `operation` label of a request: its name while fewer than MAX_OPERATION_NAMES names
    have been seen in this process, `anonymous` without one, `other` beyond the cap."""
    if not operation_name:
        return "anonymous"
    if operation_name in _operations:
        return operation_name
    if not _NAME.fullmatch(operation_name):
        return "other"
    with _operations_lock:
        if len(_operations) >= MAX_OPERATION_NAMES:
            return "other"
        _operations.add(operation_name)
    return operation_name


_OPERATION = re.compile(r"(?:\s|#[^\n]*|,)*(?:query|mutation|subscription)\s+([_A-Za-z]\w*)")


def document_operation_name(query: str) -> str | None:
    """The name of a document's first operation when it leads the document (the usual case of
    a one-operation document sent without `operationName`); a cheap scan, not a parse."""
    match = _OPERATION.match(query)
    return match.group(1) if match else None


def response_outcome(response: Mapping[str, Any]) -> str:
    """ok, partial or rejected, from a GraphQL response."""
    if not response.get("errors"):
        return "ok"
    return "partial" if response.get("data") is not None else "rejected"


def observe_request(operation_name: str | None, outcome: str, seconds: float) -> None:
    label = operation_label(operation_name)
    REQUESTS.labels(label, outcome).inc()
    REQUEST_SECONDS.labels(label).observe(seconds)


def observed_request(
    function: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Decorate `Router.execute(query, variables, operation_name)`: count and time it."""

    from nexus.tracing import span

    @functools.wraps(function)
    async def observed(self: Any, query: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        name = kwargs.get("operation_name", args[1] if len(args) > 1 else None)
        name = name or document_operation_name(query)
        started = time.perf_counter()
        with span("graphql.request", {"graphql.operation.name": name or ""}) as current:
            try:
                response = await function(self, query, *args, **kwargs)
            except BaseException:
                observe_request(name, "failed", time.perf_counter() - started)
                raise
            outcome = response_outcome(response)
            current.set_attribute("nexus.outcome", outcome)
        observe_request(name, outcome, time.perf_counter() - started)
        return response

    return observed


def engine_call(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an engine entry point (sync or async) to record its latency as `function=name`.

    Usage: ``@engine_call("vasicek_paths")`` on the function that makes the one jitted call of a
    batch, or ``with timed_engine("greeks"): ...`` around it.
    """
    histogram = ENGINE_CALL_SECONDS.labels(name)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        import inspect

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with histogram.time(), engine_span(name):
                    return await function(*args, **kwargs)

            return timed_async  # type: ignore[return-value]

        @functools.wraps(function)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with histogram.time(), engine_span(name):
                return function(*args, **kwargs)

        return timed

    return decorate


@contextmanager
def timed_engine(name: str) -> Iterator[None]:
    with ENGINE_CALL_SECONDS.labels(name).time(), engine_span(name):
        yield


@contextmanager
def engine_span(name: str) -> Iterator[None]:
    from nexus.tracing import span

    with span(f"engine {name}", {"nexus.engine.function": name}):
        yield


def observe_store(store: str, seconds: float, *, ok: bool = True) -> None:
    STORE_QUERY_SECONDS.labels(store, "ok" if ok else "error").observe(seconds)


@contextmanager
def store_query(store: str, system: str, operation: str) -> Iterator[None]:
    """Time and trace one store round trip (`system`: clickhouse, milvus, postgresql...)."""
    from opentelemetry.trace import SpanKind

    from nexus.tracing import span

    started = time.perf_counter()
    ok = False
    try:
        with span(
            f"{system} {operation}",
            {"db.system": system, "db.operation.name": operation, "nexus.store": store},
            kind=SpanKind.CLIENT,
        ):
            yield
        ok = True
    finally:
        observe_store(store, time.perf_counter() - started, ok=ok)


def observe_bus_lag(channel: str, published_at: float) -> None:
    family = channel.split(".", 1)[0] if channel else "other"
    if family not in ("market", "social", "alert", "simulation", "onchain"):
        family = "other"
    BUS_LAG_SECONDS.labels(family).observe(max(0.0, time.time() - published_at))


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> tuple[bytes, str]:
    """The body and content type of a `/metrics` scrape."""
    if multiprocess_dir() and _values.ValueClass is not _values.MutexValue:
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Call from a process manager when a worker exits (multiprocess mode only)."""
    if multiprocess_dir():
        _multiprocess.mark_process_dead(pid)
