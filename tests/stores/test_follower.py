"""The bus follower behind the API-key revocations and the trusted-document gate: every event on
its channel reaches every process, and what was learnt while events could not reach us (not yet
subscribed, Redis gone, reconnected since, closed, or an event overtook the read) is not
trusted, in process and over the machine's real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from nexus.errors import StoreUnavailable
from nexus.stores.bus import Bus, InProcessBus, RedisBus, open_bus
from nexus.stores.follower import BusFollower
from tests.conftest import REDIS_URL
from tests.support.redis_server import RedisServer


class Revocations:
    """A follower's callback: keeps the ids it is told to forget; refuses other events."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if not isinstance(event.get("id"), str):
            raise ValueError("no id")
        self.ids.append(event["id"])


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    opened = open_bus("memory://" if request.param == "memory" else REDIS_URL)
    yield opened
    await opened.close()


def _channel() -> str:
    return f"test{uuid.uuid4().hex[:8]}.revoked"


async def _until(condition: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), 10)


async def _read(value: str = "entry") -> str:
    return value


async def test_every_event_on_the_channel_reaches_the_callback(bus: Bus) -> None:
    channel = _channel()
    revocations = Revocations()
    follower = BusFollower(bus, channel, revocations, name="test-follower")
    await follower.ready()

    await bus.publish(channel, {"id": "k1"})
    await bus.publish(channel + ".other", {"id": "elsewhere"})
    await bus.publish(channel, {"malformed": True})  # logged and skipped, not counted
    await bus.publish(channel, {"id": "k2"})
    await _until(lambda: follower.events == 2)

    assert revocations.ids == ["k1", "k2"]
    await follower.close()


async def test_what_is_read_before_events_reach_us_is_not_trusted() -> None:
    bus = InProcessBus()
    follower = BusFollower(bus, _channel(), Revocations(), name="test-follower")

    before, untrusted = await follower.read(_read())  # not following yet
    await follower.ready()
    after, epoch = await follower.read(_read())

    assert (before, untrusted) == ("entry", None)
    assert not follower.trusts(untrusted)
    assert after == "entry" and epoch is not None
    assert follower.trusts(epoch)
    await follower.close()


async def test_without_a_bus_nothing_read_is_trusted() -> None:
    follower = BusFollower(None, _channel(), Revocations(), name="test-follower")
    follower.start()
    await asyncio.wait_for(follower.ready(), 1)  # nothing to wait for

    value, epoch = await follower.read(_read())

    assert (value, epoch, follower.epoch()) == ("entry", None, None)
    await follower.close()


async def test_a_read_that_an_event_overtook_is_not_trusted() -> None:
    # The read may have seen the key just before the revoking transaction committed.
    bus = InProcessBus()
    channel = _channel()
    follower = BusFollower(bus, channel, Revocations(), name="test-follower")
    await follower.ready()

    async def overtaken() -> str:
        await bus.publish(channel, {"id": "k1"})
        await _until(lambda: follower.events == 1)
        return "stale"

    value, epoch = await follower.read(overtaken())
    _, later = await follower.read(_read())

    assert value == "stale" and epoch is None
    assert later is not None and follower.trusts(later)
    await follower.close()


async def test_after_close_nothing_is_trusted_or_followed_until_it_starts_again(bus: Bus) -> None:
    channel = _channel()
    revocations = Revocations()
    follower = BusFollower(bus, channel, revocations, name="test-follower")
    await follower.ready()
    _, epoch = await follower.read(_read())

    await follower.close()
    closed_trusts = follower.trusts(epoch)
    await bus.publish(channel, {"id": "lost"})
    await asyncio.sleep(0.1)  # time for an event that would arrive (none must)
    follower.start()
    await follower.ready()
    await bus.publish(channel, {"id": "k1"})
    await _until(lambda: follower.events == 1)

    assert epoch is not None
    assert not closed_trusts
    assert revocations.ids == ["k1"]
    await follower.close()


@pytest.mark.redis
async def test_an_event_from_one_process_reaches_the_followers_of_every_process() -> None:
    channel = _channel()
    buses = [RedisBus(REDIS_URL) for _ in range(3)]
    routers = [Revocations(), Revocations()]
    followers = [
        BusFollower(bus, channel, revocations, name="test-follower")
        for bus, revocations in zip(buses[:2], routers, strict=True)
    ]
    try:
        for follower in followers:
            await follower.ready()
        delivered_to = await buses[2].publish(channel, {"id": "k1"})
        await _until(lambda: all(follower.events == 1 for follower in followers))

        assert delivered_to == 2  # two processes subscribed, each fanning out to its follower
        assert [revocations.ids for revocations in routers] == [["k1"], ["k1"]]
    finally:
        for follower in followers:
            await follower.close()
        for bus in buses:
            await bus.close()


async def test_what_was_read_before_redis_went_away_is_never_trusted_again(
    tmp_path: Path,
) -> None:
    # Events published while Redis was gone never arrive (at most once): a revocation may have
    # been missed, even once the bus has reconnected.
    server = RedisServer(tmp_path)
    server.start()
    bus = RedisBus(server.url, reconnect_delays=(0.05, 0.1))
    publisher = RedisBus(server.url)
    channel = _channel()
    revocations = Revocations()
    follower = BusFollower(bus, channel, revocations, name="test-follower")
    try:
        await asyncio.wait_for(follower.ready(), 10)
        _, before = await follower.read(_read())
        trusted_while_up = follower.trusts(before)

        server.stop()
        await _until(lambda: follower.epoch() is None)
        _, while_down = await follower.read(_read())
        trusted_while_down = follower.trusts(before)

        server.start()  # a new, empty Redis on the same port
        await _until(lambda: follower.epoch() is not None)
        await _until_delivered(publisher, channel, follower)
        _, after = await follower.read(_read())

        assert before is not None and trusted_while_up
        assert while_down is None and not trusted_while_down
        assert not follower.trusts(before)  # reconnected: the old entries stay distrusted
        assert after is not None and follower.trusts(after)
        assert revocations.ids and set(revocations.ids) == {"probe"}
    finally:
        await follower.close()
        await bus.close()
        await publisher.close()
        server.stop()


async def _until_delivered(publisher: RedisBus, channel: str, follower: BusFollower) -> None:
    """Until an event published now reaches `follower` (its PSUBSCRIBE is confirmed when one
    does)."""
    received = follower.events

    async def probe() -> None:
        while follower.events == received:
            with contextlib.suppress(StoreUnavailable):
                await publisher.publish(channel, {"id": "probe"})
            await asyncio.sleep(0.05)

    await asyncio.wait_for(probe(), 10)
