"""The event bus: publish events on named channels, subscribe by glob pattern (`market.*`).

`RedisBus` uses Redis pub/sub (PSUBSCRIBE): every process subscribed to a pattern receives every
event, so fan-out across router processes comes from Redis. Pub/sub rather than streams because
the events are live updates: a tick or an alert is worth delivering now or not at all, every
router must see every event (streams would need a consumer group per process), and nothing has
to be trimmed. The price is at-most-once delivery: events published while a process is cut off
from Redis are lost to it. A process holds ONE pub/sub connection whatever the number of its
subscribers (a thousand WebSocket clients do not open a thousand Redis connections) and fans
events out locally; when Redis goes away it reconnects with backoff and subscribes again, and
its subscribers simply resume.

`publish(..., retain=True)` also keeps the event as the channel's last one (`last(channels)`),
so a new subscriber can start from the current value.

`InProcessBus` is the embedded default with the same interface, for one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nexus.errors import StoreUnavailable

log = logging.getLogger("nexus.bus")

LAST_KEY = "nexus:last:"  # Redis key prefix of retained events


@dataclass(frozen=True, slots=True)
class BusMessage:
    channel: str
    event: dict[str, Any]


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[BusMessage]: ...

    async def close(self) -> None: ...


class Bus(Protocol):
    async def publish(self, channel: str, event: Mapping[str, Any], *, retain: bool = False) -> int:
        """Send `event` to every subscriber of `channel`; returns how many received it (over
        Redis: how many processes, each fanning out to its own subscribers). With `retain`,
        it is also kept as the channel's last event."""
        ...

    async def last(self, channels: Sequence[str]) -> list[dict[str, Any] | None]:
        """The last retained event of each channel (None where there is none)."""
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
    def __init__(self, fanout: _Fanout, patterns: tuple[str, ...], maxsize: int) -> None:
        self.fanout = fanout
        self.patterns = patterns
        self.queue: asyncio.Queue[BusMessage] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False

    def matches(self, channel: str, via: str | None = None) -> bool:
        """Whether `channel` is for this subscription. Redis sends a process one message per
        pattern it holds that matches (`market.*` and `market.BTC` both match `market.BTC`), so
        a message that came `via` a pattern is taken only through this subscription's first
        matching pattern: each subscriber gets each event once."""
        first = next((p for p in self.patterns if fnmatch.fnmatchcase(channel, p)), None)
        return first is not None and (via is None or first == via)

    def offer(self, message: BusMessage) -> bool:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A subscriber that does not keep up loses events; the publisher never waits.
            self.dropped += 1
            return False
        return True

    async def __aiter__(self) -> AsyncIterator[BusMessage]:
        while not self.closed:
            yield await self.queue.get()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.fanout.remove(self)


class _Fanout:
    """This process's subscribers, each with its own bounded queue."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: set[_QueueSubscription] = set()
        self.patterns: Counter[str] = Counter()

    def add(self, patterns: tuple[str, ...]) -> tuple[_QueueSubscription, list[str]]:
        """The new subscription and the patterns nobody here was subscribed to before."""
        subscription = _QueueSubscription(self, patterns, self.queue_size)
        self.subscribers.add(subscription)
        new = [p for p in dict.fromkeys(patterns) if self.patterns[p] == 0]
        self.patterns.update(dict.fromkeys(patterns, 1))
        return subscription, new

    async def remove(self, subscription: _QueueSubscription) -> list[str]:
        self.subscribers.discard(subscription)
        self.patterns.subtract(dict.fromkeys(subscription.patterns, 1))
        gone = [p for p in dict.fromkeys(subscription.patterns) if self.patterns[p] <= 0]
        for pattern in gone:
            del self.patterns[pattern]
        await self.on_unused(gone)
        return gone

    async def on_unused(self, patterns: list[str]) -> None:
        return None

    def deliver(self, message: BusMessage, via: str | None = None) -> int:
        return sum(
            sub.offer(message)
            for sub in list(self.subscribers)
            if sub.matches(message.channel, via)
        )


class InProcessBus:
    """Pub/sub inside one process: a bounded queue per subscription."""

    def __init__(self, *, queue_size: int = 1024) -> None:
        self.fanout = _Fanout(queue_size)
        self.retained: dict[str, dict[str, Any]] = {}

    @property
    def subscribers(self) -> set[_QueueSubscription]:
        return self.fanout.subscribers

    async def publish(self, channel: str, event: Mapping[str, Any], *, retain: bool = False) -> int:
        copied = json.loads(json.dumps(event))  # what a subscriber gets is JSON, as over Redis
        if retain:
            self.retained[channel] = copied
        return self.fanout.deliver(BusMessage(channel, copied))

    async def last(self, channels: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.retained.get(channel) for channel in channels]

    async def subscribe(self, *patterns: str) -> Subscription:
        subscription, _ = self.fanout.add(patterns)
        return subscription

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self.fanout.subscribers.clear()


class _RedisFanout(_Fanout):
    def __init__(self, bus: RedisBus, queue_size: int) -> None:
        super().__init__(queue_size)
        self.bus = bus

    async def on_unused(self, patterns: list[str]) -> None:
        await self.bus._unsubscribe(patterns)


class RedisBus:
    """Redis pub/sub: at-most-once delivery to every process subscribed when it is published."""

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 1024,
        reconnect_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0),
    ) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # A command on a pooled connection that Redis dropped (a restart) is retried on a new
        # one, so the first publish after a restart does not fail.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=5,
            health_check_interval=15,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self.fanout = _RedisFanout(self, queue_size)
        self.reconnect_delays = reconnect_delays
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()  # the listener holds a live, subscribed connection
        self._wake = asyncio.Event()  # a pattern was added while nothing was subscribed
        self.reconnects = 0

    async def publish(self, channel: str, event: Mapping[str, Any], *, retain: bool = False) -> int:
        encoded = json.dumps(event)
        try:
            if retain:
                async with self.client.pipeline(transaction=False) as pipe:
                    pipe.publish(channel, encoded)
                    pipe.set(LAST_KEY + channel, encoded)
                    receivers, _ = await pipe.execute()
            else:
                receivers = await self.client.publish(channel, encoded)
        except Exception as error:
            raise _unavailable(error) from error
        return int(receivers)

    async def publish_many(self, events: Sequence[tuple[str, Mapping[str, Any], bool]]) -> int:
        """Publish (channel, event, retain) triples in one round trip (a pipeline, in order;
        not a transaction): an ingestion batch's whale alerts, hundreds at once. Returns how
        many events had at least one receiver."""
        if not events:
            return 0
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for channel, event, retain in events:
                    encoded = json.dumps(event)
                    pipe.publish(channel, encoded)
                    if retain:
                        pipe.set(LAST_KEY + channel, encoded)
                answers = await pipe.execute()
        except Exception as error:
            raise _unavailable(error) from error
        receivers, at = [], 0
        for _, _, retain in events:
            receivers.append(int(answers[at]))
            at += 2 if retain else 1
        return sum(1 for count in receivers if count)

    async def last(self, channels: Sequence[str]) -> list[dict[str, Any] | None]:
        if not channels:
            return []
        try:
            values = await self.client.mget([LAST_KEY + channel for channel in channels])
        except Exception as error:
            raise _unavailable(error) from error
        return [_json_object(value) for value in values]

    async def subscribe(self, *patterns: str) -> Subscription:
        subscription, new = self.fanout.add(patterns)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        if new and self._subscribed.is_set():
            with contextlib.suppress(Exception):  # the listener resubscribes after a reconnect
                await self._pubsub.psubscribe(*new)
        self._wake.set()
        return subscription

    async def wait_subscribed(self) -> None:
        """Until the listener holds a subscribed connection (tests, after a Redis restart)."""
        await self._subscribed.wait()

    async def _unsubscribe(self, patterns: list[str]) -> None:
        if patterns and self._subscribed.is_set():
            with contextlib.suppress(Exception):
                await self._pubsub.punsubscribe(*patterns)

    async def _listen(self) -> None:
        """Hold one pub/sub connection, reconnecting with backoff, and fan its events out."""
        failures = 0
        while True:
            if not self.fanout.patterns:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                patterns = list(self.fanout.patterns)
                await self._pubsub.psubscribe(*patterns)
                self._subscribed.set()
                added = [p for p in self.fanout.patterns if p not in patterns]
                if added:  # subscribed to while we were connecting
                    await self._pubsub.psubscribe(*added)
                if failures:
                    self.reconnects += 1
                    log.warning("bus reconnected to Redis", extra={"attempts": failures})
                failures = 0
                await self._read()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._subscribed.clear()
                delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
                if failures == 0:
                    log.warning("bus lost Redis (%s); reconnecting", type(error).__name__)
                failures += 1
                await self._drop_pubsub()
                await asyncio.sleep(delay)

    async def _read(self) -> None:
        while True:
            raw = await self._pubsub.get_message(timeout=1.0)
            if raw is None:
                if not self._pubsub.subscribed and self.fanout.patterns:
                    await self._pubsub.psubscribe(*self.fanout.patterns)
                continue
            if raw.get("type") not in ("message", "pmessage"):
                continue
            channel = raw["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            event = _json_object(raw["data"])
            if event is None:
                log.warning("dropped a non-JSON event", extra={"channel": channel})
                continue
            pattern = raw.get("pattern")
            if isinstance(pattern, bytes):
                pattern = pattern.decode()
            self.fanout.deliver(BusMessage(channel, event), pattern)

    async def _drop_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except Exception as error:
            raise _unavailable(error) from error

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        self._subscribed.clear()
        await self._drop_pubsub()
        self.fanout.subscribers.clear()
        await self.client.aclose()


def delivery(bus: Bus) -> tuple[bool, int]:
    """Whether `bus` is delivering events to this process now, and the number of its
    reconnections: an event published while it was cut off never arrives (at most once), so a
    reader that relies on events must distrust what it learnt before the count changed."""
    if isinstance(bus, RedisBus):
        return bus._subscribed.is_set(), bus.reconnects
    return True, 0  # in-process: nothing to lose


def _unavailable(error: Exception) -> StoreUnavailable:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if not isinstance(error, RedisConnectionError | RedisTimeoutError | OSError):
        raise error
    log.error("Redis unavailable: %s", type(error).__name__)
    return StoreUnavailable("bus")


def _json_object(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
