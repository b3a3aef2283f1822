"""The event bus: publish events on named channels, subscribe by glob pattern (`market.*`).

`RedisBus` uses Redis pub/sub (PSUBSCRIBE), so every process subscribed to a pattern receives
every event: fan-out across router processes comes from Redis, not from us. `InProcessBus` is the
embedded default with the same interface, for one process. Events are JSON objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from nexus.errors import StoreUnavailable

log = logging.getLogger("nexus.bus")


@dataclass(frozen=True, slots=True)
class BusMessage:
    channel: str
    event: dict[str, Any]


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[BusMessage]: ...

    async def close(self) -> None: ...


class Bus(Protocol):
    async def publish(self, channel: str, event: Mapping[str, Any]) -> int:
        """Send `event` to every subscriber of `channel`; returns how many received it."""
        ...

    async def subscribe(self, *patterns: str) -> Subscription: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def open_bus(url: str) -> Bus:
    """The bus `REDIS_URL` names: `memory://` (in-process) or `redis://host:port/db`."""
    if url.startswith("memory://"):
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url)
    raise ValueError("REDIS_URL must be memory:// or redis://HOST:PORT/DB")


class _QueueSubscription:
    def __init__(self, bus: InProcessBus, patterns: tuple[str, ...], maxsize: int) -> None:
        self.bus = bus
        self.patterns = patterns
        self.queue: asyncio.Queue[BusMessage] = asyncio.Queue(maxsize)
        self.dropped = 0

    def matches(self, channel: str) -> bool:
        return any(fnmatch.fnmatchcase(channel, pattern) for pattern in self.patterns)

    def offer(self, message: BusMessage) -> bool:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A subscriber that does not keep up loses events; the publisher never waits.
            self.dropped += 1
            return False
        return True

    async def __aiter__(self) -> AsyncIterator[BusMessage]:
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        self.bus.subscribers.discard(self)


class InProcessBus:
    """Pub/sub inside one process: a bounded queue per subscription."""

    def __init__(self, *, queue_size: int = 1024) -> None:
        self.subscribers: set[_QueueSubscription] = set()
        self.queue_size = queue_size

    async def publish(self, channel: str, event: Mapping[str, Any]) -> int:
        message = BusMessage(channel, json.loads(json.dumps(event)))
        return sum(sub.offer(message) for sub in list(self.subscribers) if sub.matches(channel))

    async def subscribe(self, *patterns: str) -> Subscription:
        subscription = _QueueSubscription(self, patterns, self.queue_size)
        self.subscribers.add(subscription)
        return subscription

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self.subscribers.clear()


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[BusMessage]:
        async for raw in self.pubsub.listen():
            if raw.get("type") not in ("message", "pmessage"):
                continue
            channel = raw["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            try:
                event = json.loads(raw["data"])
            except (TypeError, ValueError):
                log.warning("dropped a non-JSON event", extra={"channel": channel})
                continue
            yield BusMessage(channel, event)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()


class RedisBus:
    """Redis pub/sub: at-most-once delivery to every process subscribed when it is published."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=15)

    async def publish(self, channel: str, event: Mapping[str, Any]) -> int:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            receivers: int = await self.client.publish(channel, json.dumps(event))
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            log.error("Redis unavailable: %s", type(error).__name__)
            raise StoreUnavailable("bus") from error
        return receivers

    async def subscribe(self, *patterns: str) -> Subscription:
        from redis.exceptions import ConnectionError as RedisConnectionError

        pubsub = self.client.pubsub()
        try:
            await pubsub.psubscribe(*patterns)
        except (RedisConnectionError, OSError) as error:
            log.error("Redis unavailable: %s", type(error).__name__)
            raise StoreUnavailable("bus") from error
        return _RedisSubscription(pubsub)

    async def ping(self) -> bool:
        from redis.exceptions import ConnectionError as RedisConnectionError

        try:
            return bool(await self.client.ping())
        except (RedisConnectionError, OSError) as error:
            raise StoreUnavailable("bus") from error

    async def close(self) -> None:
        await self.client.aclose()
