"""Separate processes, as deployed: two routers behind a load balancer both deliver every event
(fan-out through Redis), and `nexus router` reaches remote subgraphs over WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus.assembly.schema_export import supergraph
from nexus.events import encode, market_channel
from nexus.stores.bus import RedisBus
from tests.realtime.conftest import tick
from tests.support.live import TransportWsClient
from tests.support.processes import NexusProcess
from tests.support.redis_server import RedisServer

MARKET = (
    'subscription { marketUpdates(symbols: ["BTC", "GME"]) '
    "{ symbol price token { name } stock { name } } }"
)


def _started(processes: list[NexusProcess], path: str = "/readyz") -> None:
    for process in processes:
        process.wait(path)


@pytest.fixture(scope="module")
def two_routers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, demo_seed: Path
) -> Iterator[list[NexusProcess]]:
    env = {"REDIS_URL": redis_server.url, "NEXUS_REPLAY": "off"}
    root = tmp_path_factory.mktemp("routers")
    routers = [
        NexusProcess(["serve"], root / f"r{n}", f"router{n}", env, seed=demo_seed) for n in (1, 2)
    ]
    try:
        _started(routers)
        yield routers
    finally:
        for process in routers:
            process.stop()


@pytest.fixture(scope="module")
def remote(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, demo_seed: Path
) -> Iterator[NexusProcess]:
    env = {"REDIS_URL": redis_server.url, "NEXUS_REPLAY": "off"}
    root = tmp_path_factory.mktemp("remote")
    subgraphs = {
        name: NexusProcess(["subgraph", name], root / name, name, env, seed=demo_seed)
        for name in ("crypto", "micro")
    }
    started = list(subgraphs.values())
    try:
        _started(started)
        file = root / "supergraph.graphql"
        file.write_text(supergraph({n: f"{p.url}/graphql" for n, p in subgraphs.items()}))
        router = NexusProcess(["router", "--supergraph", str(file)], root / "router", "router", env)
        started.append(router)
        router.wait("/healthz")
        yield router
    finally:
        for process in started:
            process.stop()


async def _publish_until_flowing(publisher: RedisBus, clients: list[TransportWsClient]) -> None:
    """Warm-up ticks until every client receives one, then a quiet moment."""
    waiting = set(range(len(clients)))
    for _ in range(300):
        await publisher.publish(market_channel("BTC"), encode(tick("BTC", 0.0)), retain=True)
        for index in list(waiting):
            try:
                await clients[index].receive(timeout=0.05)
                waiting.discard(index)
            except TimeoutError:
                pass
        if not waiting:
            break
    assert not waiting, "a client never received an event"
    for client in clients:
        while True:
            try:
                await client.receive(timeout=0.3)
            except TimeoutError:
                break


async def test_every_router_delivers_every_event(
    two_routers: list[NexusProcess], redis_server: RedisServer
) -> None:
    publisher = RedisBus(redis_server.url)
    await publisher.publish(market_channel("GME"), encode(tick("GME", 1.0, "stock")), retain=True)
    clients = [
        await TransportWsClient.connect(p.url.replace("http", "ws") + "/graphql")
        for p in two_routers
    ]
    for client in clients:
        await client.subscribe("1", MARKET)
    await _publish_until_flowing(publisher, clients)
    for n in range(5):
        await publisher.publish(
            market_channel("GME"), encode(tick("GME", 20.0 + n, "stock")), retain=True
        )
    for client in clients:
        got = [(await client.receive())["payload"]["data"]["marketUpdates"] for _ in range(5)]
        assert [u["price"] for u in got] == [20.0, 21.0, 22.0, 23.0, 24.0]
        assert got[0]["stock"]["name"].startswith("GameStop")
        await client.close()
    await publisher.close()


async def test_nexus_router_subscribes_to_remote_subgraphs_over_websocket(
    remote: NexusProcess, redis_server: RedisServer
) -> None:
    publisher = RedisBus(redis_server.url)
    await publisher.publish(market_channel("GME"), encode(tick("GME", 1.0, "stock")), retain=True)
    client = await TransportWsClient.connect(remote.url.replace("http", "ws") + "/graphql")
    await client.subscribe("1", MARKET)
    await _publish_until_flowing(publisher, [client])
    await publisher.publish(market_channel("BTC"), encode(tick("BTC", 30_000.0)), retain=True)
    await publisher.publish(market_channel("GME"), encode(tick("GME", 300.0, "stock")), retain=True)
    btc = (await client.receive())["payload"]["data"]["marketUpdates"]
    gme = (await client.receive())["payload"]["data"]["marketUpdates"]
    # The event came from the crypto process; Stock.name was fetched from the micro process.
    assert btc == {"symbol": "BTC", "price": 30_000.0, "token": {"name": "Bitcoin"}, "stock": None}
    assert gme["price"] == 300.0 and gme["stock"]["name"].startswith("GameStop")
    await client.close()
    await asyncio.sleep(0.1)
    await publisher.close()
