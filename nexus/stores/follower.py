"""Following one bus channel to keep a cache honest: an entry is trusted past its short interval
only while the events that would invalidate it are sure to reach this process.

The bus delivers at most once: an event published while a process is cut off from Redis never
arrives. So a reader tags what it learns with the follower's `epoch()` (the bus's reconnection
count while this process is subscribed and delivering, else None) and `trusts(epoch)` it only
while the epoch is still the same: an entry learnt while nothing was delivering, or before the
bus reconnected, may have missed the event that would have dropped it.

A read that raced an event (the event arrived while the read was in flight) may predate it, so
`read(...)`, which runs a read and gives the epoch to keep with its result, gives it None too.

The follower starts on first use (`start()`, which needs the running loop); `ready()` waits
until events are being received (tests; a server need not wait), `close()` stops it. Without a
bus nothing can reach us: its epoch is always None.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nexus.stores.bus import Bus, RedisBus, delivery

log = logging.getLogger("nexus.bus")

T = TypeVar("T")


class BusFollower:
    """Calls `on_event` with every event published on `channel` (by any process, over Redis).

    `on_event` raises ValueError for an event it does not understand: that event is logged,
    skipped and not counted in `events`.
    """

    def __init__(
        self,
        bus: Bus | None,
        channel: str,
        on_event: Callable[[dict[str, Any]], None],
        *,
        name: str,
    ) -> None:
        self.bus = bus
        self.channel = channel
        self.on_event = on_event
        self.name = name  # of the following task
        self._events = 0
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def events(self) -> int:
        """Events handled so far."""
        return self._events

    def start(self) -> None:
        """Subscribes, unless already following (again after `close()` or a failure)."""
        if self.bus is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._follow(self.bus), name=self.name)

    def epoch(self) -> int | None:
        """The bus's reconnection count while events reach this follower, else None."""
        if self.bus is None or not self._listening.is_set():
            return None
        delivering, epoch = delivery(self.bus)
        return epoch if delivering else None

    def trusts(self, epoch: int | None) -> bool:
        """Whether what was learnt at `epoch` has missed no event: only if events reached us
        then and the bus has neither stopped delivering nor reconnected since."""
        return epoch is not None and epoch == self.epoch()

    async def read(self, lookup: Awaitable[T]) -> tuple[T, int | None]:
        """What `lookup` (not yet started) reads, and the epoch to keep with it: None where
        events were not reaching us when it began, or one arrived before it ended (the read
        may predate it)."""
        events, epoch = self._events, self.epoch()
        result = await lookup
        return result, epoch if events == self._events else None

    async def _follow(self, bus: Bus) -> None:
        subscription = await bus.subscribe(self.channel)
        self._listening.set()
        try:
            async for message in subscription:
                try:
                    self.on_event(message.event)
                except ValueError as error:
                    log.warning("ignored an event on %s: %s", self.channel, error)
                else:
                    self._events += 1
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):
                await subscription.close()

    async def ready(self) -> None:
        """Until events are being received (at once without a bus)."""
        if self.bus is None:
            return
        self.start()
        await self._listening.wait()
        if isinstance(self.bus, RedisBus):
            await self.bus.wait_subscribed()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
