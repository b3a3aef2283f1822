"""The event bus on the machine's real Redis and in-process: one interface, one behaviour."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexus.errors import StoreUnavailable
from nexus.stores.bus import Bus, BusMessage, InProcessBus, RedisBus, Subscription, open_bus
from tests.conftest import REDIS_URL
from tests.support.redis_server import RedisServer


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    opened = open_bus("memory://" if request.param == "memory" else REDIS_URL)
    yield opened
    await opened.close()


async def _next(subscription: Subscription) -> BusMessage:
    iterator = aiter(subscription)
    return await asyncio.wait_for(anext(iterator), 5)


async def test_a_pattern_subscriber_receives_matching_events_in_order(bus: Bus) -> None:
    prefix = f"test{uuid.uuid4().hex[:8]}"
    subscription = await bus.subscribe(f"{prefix}.market.*")
    await asyncio.sleep(0.05)  # Redis confirms PSUBSCRIBE asynchronously
    await bus.publish(f"{prefix}.social.spike", {"symbol": "GME"})
    for price in (100.0, 101.5, 99.25):
        await bus.publish(f"{prefix}.market.BTC", {"symbol": "BTC", "price": price})
    iterator = aiter(subscription)
    received = [await asyncio.wait_for(anext(iterator), 5) for _ in range(3)]
    assert [m.event["price"] for m in received] == [100.0, 101.5, 99.25]
    assert {m.channel for m in received} == {f"{prefix}.market.BTC"}
    await subscription.close()


async def test_every_subscriber_gets_every_event(bus: Bus) -> None:
    channel = f"test{uuid.uuid4().hex[:8]}.alert.price"
    first, second = await bus.subscribe(channel), await bus.subscribe(channel)
    await asyncio.sleep(0.05)
    # In-process it counts subscriptions; Redis counts subscribed processes (one here).
    assert await bus.publish(channel, {"rule": 7}) == (2 if isinstance(bus, InProcessBus) else 1)
    assert (await _next(first)).event == {"rule": 7}
    assert (await _next(second)).event == {"rule": 7}
    await first.close()
    await second.close()


async def test_overlapping_patterns_in_one_process_deliver_each_event_once(bus: Bus) -> None:
    # Redis sends one pmessage per matching pattern a process holds: `market.*` (say the
    # platform's catalogue) and `market.BTC` (a client's subscription) both match.
    prefix = f"test{uuid.uuid4().hex[:8]}"
    wide = await bus.subscribe(f"{prefix}.market.*")
    narrow = await bus.subscribe(f"{prefix}.market.BTC")
    both = await bus.subscribe(f"{prefix}.market.BTC", f"{prefix}.market.*")
    await asyncio.sleep(0.05)
    for price in (1.0, 2.0):
        await bus.publish(f"{prefix}.market.BTC", {"price": price})
    await bus.publish(f"{prefix}.market.END", {"price": 0.0})
    everything = [1.0, 2.0, 0.0]
    for subscription, expected in ((wide, everything), (narrow, [1.0, 2.0]), (both, everything)):
        received = [(await _next(subscription)).event["price"] for _ in expected]
        assert received == expected
        await asyncio.sleep(0.1)
        assert subscription.queue.empty()  # type: ignore[attr-defined]  # nothing twice
        await subscription.close()


async def test_a_closed_subscription_receives_nothing_more() -> None:
    bus = InProcessBus()
    subscription = await bus.subscribe("market.*")
    await subscription.close()
    assert await bus.publish("market.BTC", {"price": 1.0}) == 0


async def test_a_slow_in_process_subscriber_never_blocks_the_publisher() -> None:
    bus = InProcessBus(queue_size=2)
    slow = await bus.subscribe("market.*")
    delivered = [await bus.publish("market.ETH", {"n": n}) for n in range(5)]
    assert delivered == [1, 1, 0, 0, 0]
    assert (await _next(slow)).event == {"n": 0}


async def test_redis_that_is_down_is_store_unavailable() -> None:
    bus = RedisBus("redis://:hunter2@127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable) as raised:
        await bus.publish("market.BTC", {"price": 1.0})
    assert raised.value.extensions == {"code": "STORE_UNAVAILABLE", "store": "bus"}
    assert "hunter2" not in str(raised.value)
    await bus.close()


def test_the_url_picks_the_bus() -> None:
    assert isinstance(open_bus("memory://"), InProcessBus)
    assert isinstance(open_bus("redis://127.0.0.1:6379/0"), RedisBus)
    with pytest.raises(ValueError, match="memory://"):
        open_bus("amqp://x")


async def test_the_last_retained_event_of_each_channel(bus: Bus) -> None:
    prefix = f"test{uuid.uuid4().hex[:8]}"
    await bus.publish(f"{prefix}.market.BTC", {"price": 1.0}, retain=True)
    await bus.publish(f"{prefix}.market.BTC", {"price": 2.0}, retain=True)
    await bus.publish(f"{prefix}.market.ETH", {"price": 3.0})  # not retained
    last = await bus.last([f"{prefix}.market.BTC", f"{prefix}.market.ETH"])
    assert last == [{"price": 2.0}, None]


@pytest.mark.redis
async def test_many_subscribers_share_one_redis_connection() -> None:
    bus = RedisBus(REDIS_URL)
    prefix = f"test{uuid.uuid4().hex[:8]}"
    subscriptions = [await bus.subscribe(f"{prefix}.market.*") for _ in range(50)]
    await asyncio.wait_for(bus.wait_subscribed(), 5)
    await asyncio.sleep(0.05)
    # Redis sees one subscribed connection: this process; it fans out to its 50 subscribers.
    assert await bus.publish(f"{prefix}.market.GME", {"price": 20.0}) == 1
    received = [await _next(subscription) for subscription in subscriptions]
    assert {m.event["price"] for m in received} == {20.0}
    for subscription in subscriptions:
        await subscription.close()
    await asyncio.sleep(0.05)
    assert await bus.publish(f"{prefix}.market.GME", {"price": 21.0}) == 0
    await bus.close()


async def test_subscribers_resume_after_redis_restarts(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    bus = RedisBus(server.url, reconnect_delays=(0.05, 0.1))
    publisher = RedisBus(server.url)
    try:
        subscription = await bus.subscribe("market.*")
        await asyncio.wait_for(bus.wait_subscribed(), 5)
        await asyncio.sleep(0.05)
        await publisher.publish("market.BTC", {"n": 1})
        assert (await _next(subscription)).event == {"n": 1}

        server.stop()
        with pytest.raises(StoreUnavailable):
            await publisher.publish("market.BTC", {"n": 2})
        server.start()  # a new, empty Redis on the same port
        await asyncio.wait_for(_until_subscribed(bus), 10)
        await publisher.publish("market.BTC", {"n": 3})
        message = await _next(subscription)
        while message.channel == "market.probe":
            message = await _next(subscription)
        assert message.event == {"n": 3}
    finally:
        await bus.close()
        await publisher.close()
        server.stop()


async def _until_subscribed(bus: RedisBus) -> None:
    # After the restart the listener reconnects; PSUBSCRIBE is confirmed when a publish counts it.
    probe = RedisBus(_url_of(bus))
    try:
        while True:
            with contextlib.suppress(StoreUnavailable):
                if await probe.publish("market.probe", {}) >= 1:
                    return
            await asyncio.sleep(0.05)
    finally:
        await probe.close()


def _url_of(bus: RedisBus) -> str:
    kwargs = bus.client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"
