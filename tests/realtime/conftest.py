"""A live router (crypto, micro and macro in-process) on a Redis server of the tests' own.

The tests publish events with a second bus connection, as the replay feed or ingestion would,
and read them with real WebSocket and SSE clients over 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.gateway import create_app
from graph.in_process import router_for_subgraphs
from graph.router import Router
from graph.subscriptions.session import SubscriptionSettings
from nexus.assembly.registry import load_subgraph
from nexus.config import Settings
from nexus.events import MarketTick, encode, market_channel
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import RedisBus
from nexus.stores.vectors import VectorStore
from tests.support.live import LiveServer, TransportWsClient
from tests.support.redis_server import RedisServer


@dataclass
class Live:
    server: LiveServer
    router: Router
    bus: RedisBus  # the router process's bus
    publisher: RedisBus  # a publisher elsewhere

    async def tick(
        self, symbol: str, price: float, *, asset_class: str = "crypto", previous: float = 100.0
    ) -> None:
        await self.publisher.publish(
            market_channel(symbol), encode(tick(symbol, price, asset_class, previous)), retain=True
        )


def tick(
    symbol: str, price: float, asset_class: str = "crypto", previous: float = 100.0
) -> MarketTick:
    return MarketTick(
        symbol=symbol,
        asset_class=asset_class,  # type: ignore[arg-type]
        price=price,
        open=previous,
        high=max(price, previous),
        low=min(price, previous),
        previous_close=previous,
        volume=1_000.0,
        at=dt.datetime(2021, 1, 27, 15, 30, tzinfo=dt.UTC),
        published_at=time.time(),
    )


async def start_live(
    redis_url: str, stores: Stores, settings: SubscriptionSettings
) -> tuple[LiveServer, Router]:
    subgraphs = [load_subgraph(name) for name in ("macro", "crypto", "micro")]
    router = router_for_subgraphs(subgraphs, stores)
    server = LiveServer(create_app(router, subscriptions=settings))
    await server.__aenter__()
    return server, router


@pytest.fixture
def subscription_settings() -> SubscriptionSettings:
    return SubscriptionSettings(keepalive_seconds=30, init_timeout_seconds=5, client_queue_limit=64)


@pytest.fixture
async def live(
    analytics: ChdbStore,
    vectors: VectorStore,
    micro_load: dict[str, int],
    redis_server: RedisServer,
    tmp_path: Path,
    subscription_settings: SubscriptionSettings,
) -> AsyncIterator[Live]:
    bus = RedisBus(redis_server.url, reconnect_delays=(0.05, 0.1, 0.2))
    publisher = RedisBus(redis_server.url)
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url})
    stores = Stores(settings=settings, analytics=analytics, vectors=vectors, bus=bus)
    # Seed a last tick for the stocks the tests follow (crypto knows its tokens itself).
    for symbol in ("GME", "AMC"):
        await publisher.publish(
            market_channel(symbol), encode(tick(symbol, 100.0, "stock")), retain=True
        )
    server, router = await start_live(redis_server.url, stores, subscription_settings)
    try:
        yield Live(server, router, bus, publisher)
    finally:
        await server.__aexit__()
        await bus.close()
        await publisher.close()


async def flowing(client: TransportWsClient, live: Live, symbol: str, id: str = "1") -> None:
    """Publish warm-up ticks (price 0) until the client receives one: the stream is live."""
    for _ in range(200):
        await live.tick(symbol, 0.0)
        try:
            message = await client.receive(timeout=0.05)
        except TimeoutError:
            continue
        assert message["id"] == id and message["type"] in ("next", "data"), message
        await drain(client)
        return
    raise AssertionError("the subscription never received an event")


async def drain(client: TransportWsClient) -> None:
    """Read until nothing more arrives for a moment (warm-up ticks still in flight)."""
    while True:
        try:
            await client.receive(timeout=0.2)
        except TimeoutError:
            return
