"""The router keeps delivering when Redis restarts; simulation jobs stream their progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from graph.subscriptions.session import SubscriptionSettings
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import RedisBus
from nexus.stores.vectors import VectorStore
from tests.realtime.conftest import Live, flowing, start_live
from tests.support.live import TransportWsClient
from tests.support.redis_server import RedisServer


@pytest.fixture
async def restartable(
    analytics: ChdbStore,
    vectors: VectorStore,
    micro_load: dict[str, int],
    tmp_path: Path,
) -> AsyncIterator[tuple[Live, RedisServer]]:
    redis = RedisServer(tmp_path)
    redis.start()
    bus = RedisBus(redis.url, reconnect_delays=(0.05, 0.1, 0.2))
    publisher = RedisBus(redis.url)
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path), "REDIS_URL": redis.url})
    stores = Stores(settings=settings, analytics=analytics, vectors=vectors, bus=bus)
    server, router = await start_live(redis.url, stores, SubscriptionSettings())
    try:
        yield Live(server, router, bus, publisher), redis
    finally:
        await server.__aexit__()
        await bus.close()
        await publisher.close()
        redis.stop()


async def test_delivery_resumes_after_redis_restarts(
    restartable: tuple[Live, RedisServer],
) -> None:
    live, redis = restartable
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("1", 'subscription { marketUpdates(symbols: ["BTC"]) { price } }')
    await flowing(client, live, "BTC")

    redis.stop()
    redis.start()  # an empty Redis on the same port: the router reconnects and resubscribes
    await flowing(client, live, "BTC")
    await live.tick("BTC", 555.0)
    message = await client.receive()
    assert message["payload"]["data"]["marketUpdates"]["price"] == 555.0
    # The client's connection was never interrupted: it is the same operation, still live.
    assert live.router.hub is not None and len(live.router.hub.shared) == 1
    await client.close()


async def test_a_rate_simulation_streams_progress_then_its_result(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.server.url, timeout=60) as http:
        started = await http.post(
            "/graphql",
            json={
                "query": "mutation { startRateSimulation(input: { shockBp: 100, horizonYears: 2, "
                "paths: 2000, baseRatePercent: 4.0 }) { id status } }"
            },
        )
    job = started.json()["data"]["startRateSimulation"]
    assert job["status"] in ("QUEUED", "RUNNING")
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe(
        "job",
        "subscription($id: ID!) { simulation(jobId: $id) { status progress "
        "result { shockedRate paths "
        "bonds { maturityYears price unshockedPrice changePercent } } } }",
        {"id": job["id"]},
    )
    updates = []
    while True:
        message = await client.receive(timeout=60)
        if message["type"] == "complete":
            break
        updates.append(message["payload"]["data"]["simulation"])
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress)
    final = updates[-1]
    assert final["status"] == "SUCCEEDED" and final["progress"] == 1.0
    result = final["result"]
    assert result["shockedRate"] == pytest.approx(0.05)
    assert result["paths"] == 2000
    assert [b["maturityYears"] for b in result["bonds"]] == [1.0, 2.0]
    # +100 bp makes every zero-coupon bond cheaper than without the shock.
    assert all(b["changePercent"] < 0 for b in result["bonds"])
    await client.close()


async def test_an_unknown_simulation_job_is_not_found(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("1", 'subscription { simulation(jobId: "nope") { status } }')
    error = await client.receive()
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    await client.close()


async def test_bad_simulation_input_changes_nothing(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.server.url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation { startRateSimulation(input: { shockBp: 100, paths: 0 }) "
                "{ id } }"
            },
        )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "paths" in body["errors"][0]["message"]
