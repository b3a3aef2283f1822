"""Usage metering: every operation's caller, key, name, costs and outcome reach the sink in
batches, off the request path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx

from graph.edge.budget import InProcessBudget
from graph.edge.demand import DemandControl
from graph.edge.usage import UsageEvent, UsageMeter
from graph.gateway import create_app
from graph.in_process import in_process_router
from nexus.auth.caller import ANONYMOUS
from tests.graph.edge_support import SCHEMAS, authenticator


class ListSink:
    def __init__(self) -> None:
        self.batches: list[list[UsageEvent]] = []

    async def write(self, events: Sequence[UsageEvent]) -> None:
        self.batches.append(list(events))


async def test_each_operation_is_metered_with_its_caller_costs_and_outcome() -> None:
    sink = ListSink()
    meter = UsageMeter(sink, interval_seconds=60)  # written when flushed, not per request
    router = in_process_router(SCHEMAS, demand=DemandControl(InProcessBudget()), usage=meter)
    app = create_app(router, authenticator=authenticator())
    key = {"x-api-key": "nxa_analyst"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nexus"
    ) as client:
        await client.post(
            "/graphql", json={"query": "query Board { quotes(first: 3) { symbol } }"}, headers=key
        )
        await client.post(
            "/graphql", json={"query": "{ quotes(first: 2) { holders } }"}, headers=key
        )
        await client.post(
            "/graphql", json={"query": "{ quotes(first: 41) { symbol } }"}, headers=key
        )
        await client.post("/graphql", json={"query": "{ movers { symbol } }"})
        assert sink.batches == []  # nothing was written on the request path
    await meter.close()
    events = [event for batch in sink.batches for event in batch]
    assert len(sink.batches) == 1
    assert [
        (
            e.api_key_id,
            e.organization_id,
            e.plan,
            e.operation_name,
            e.estimated_cost,
            e.actual_cost,
            e.status,
        )
        for e in events
    ] == [
        ("key-1", "org-a", "pro", "Board", 3, 3, "ok"),
        ("key-1", "org-a", "pro", None, 2, 2, "error"),  # holders: FORBIDDEN
        ("key-1", "org-a", "pro", None, 41, 0, "refused"),  # over the plan's 40
        (None, None, "anonymous", None, 5, 1, "ok"),
    ]


async def test_operations_are_metered_with_demand_control_off() -> None:
    """NEXUS_DEMAND_CONTROL=off refuses nothing and reports no cost, yet invoices still need
    every operation's costs: the meter gets them all the same."""
    sink = ListSink()
    meter = UsageMeter(sink, interval_seconds=60)
    router = in_process_router(SCHEMAS, demand=None, usage=meter)
    app = create_app(router, authenticator=authenticator())
    key = {"x-api-key": "nxa_analyst"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nexus"
    ) as client:
        board = await client.post(
            "/graphql", json={"query": "query Board { quotes(first: 3) { symbol } }"}, headers=key
        )
        # Over the plan's maximum of 40, but nothing is enforced: it runs and is metered.
        large = await client.post(
            "/graphql", json={"query": "{ quotes(first: 41) { symbol } }"}, headers=key
        )
    assert "cost" not in (board.json().get("extensions") or {})
    assert len(large.json()["data"]["quotes"]) > 0
    await meter.close()
    events = [event for batch in sink.batches for event in batch]
    assert [
        (e.api_key_id, e.plan, e.operation_name, e.estimated_cost, e.status) for e in events
    ] == [("key-1", "pro", "Board", 3, "ok"), ("key-1", "pro", None, 41, "ok")]
    returned = len(large.json()["data"]["quotes"])
    assert (events[0].actual_cost, events[1].actual_cost) == (3, returned)


class SlowSink(ListSink):
    """A store that takes 10 ms a write."""

    async def write(self, events: Sequence[UsageEvent]) -> None:
        await asyncio.sleep(0.01)
        await super().write(events)


async def test_steady_traffic_is_written_once_per_interval_not_once_per_write() -> None:
    """Events that arrive while a batch is being written wait for the next interval: under
    steady traffic the store sees one transaction per interval, not one every few requests."""
    sink = SlowSink()
    meter = UsageMeter(sink, interval_seconds=0.2)
    event = UsageEvent.of(ANONYMOUS, "Board", 3, 3, "ok")
    recorded = 0
    deadline = asyncio.get_running_loop().time() + 0.7
    while asyncio.get_running_loop().time() < deadline:  # about one event every 2 ms
        meter.record(event)
        recorded += 1
        await asyncio.sleep(0.002)
    writes_while_recording = len(sink.batches)
    await meter.close()
    # 0.7 s at one write per 0.2 s: 3 (4 on a machine that stretches the sleeps), where
    # chasing the events that arrive during each 10 ms write made it one write per ~10 ms.
    assert 1 <= writes_while_recording <= 4
    assert sum(len(batch) for batch in sink.batches) == recorded  # nothing lost at close


class DownSink(ListSink):
    """A store that refuses every write until `up` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False
        self.attempts = 0

    async def write(self, events: Sequence[UsageEvent]) -> None:
        self.attempts += 1
        if not self.up:
            raise ConnectionError("store down")
        await super().write(events)


async def test_a_sink_that_is_down_is_retried_with_backoff_and_loses_nothing() -> None:
    """Full batches keep arriving while the store is down: the meter waits out a doubling pause
    between tries instead of retrying at each event (a loop of failing writes), and writes
    everything once the store is back."""
    sink = DownSink()
    meter = UsageMeter(sink, batch_size=5, interval_seconds=0.05, max_backoff_seconds=0.2)
    event = UsageEvent.of(ANONYMOUS, "Board", 3, 3, "ok")
    recorded = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.8
    while loop.time() < deadline:  # a full batch every few milliseconds
        meter.record(event)
        recorded += 1
        await asyncio.sleep(0.001)
    # Tries at about 0.005 s (the first full batch), then after pauses of 0.05, 0.1, 0.2, 0.2 and
    # 0.2 s: 6 in 0.8 s, where retrying on every full batch made it hundreds.
    assert 2 <= sink.attempts <= 8
    assert meter.failures == sink.attempts and meter.written == 0
    sink.up = True
    await meter.close()
    assert meter.failures == 0
    assert sum(len(batch) for batch in sink.batches) == recorded == meter.written
