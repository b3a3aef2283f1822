"""Usage metering off the request path: each operation's caller, key, name, costs and outcome,
queued in memory and written in batches by one background task.

Recording never waits and never fails a request: the queue is bounded (the oldest events are
dropped, counted and logged when the sink falls that far behind), a failed write is retried after
a pause that doubles with each failure in a row (up to `max_backoff_seconds`; a full queue does
not cut it short: a sink that is down is not hammered), and closing the meter flushes what is
left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from nexus.usage import UsageEvent, UsageStatus

log = logging.getLogger("graph.edge")

__all__ = ["UsageEvent", "UsageMeter", "UsageSink", "UsageStatus"]


class UsageSink(Protocol):
    async def write(self, events: Sequence[UsageEvent]) -> None: ...


class UsageMeter:
    def __init__(
        self,
        sink: UsageSink,
        *,
        batch_size: int = 500,
        interval_seconds: float = 1.0,
        max_queued: int = 100_000,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.interval_seconds = interval_seconds
        self._queue: deque[UsageEvent] = deque(maxlen=max_queued)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.max_backoff_seconds = max_backoff_seconds
        self.dropped = 0
        self.written = 0
        self.failures = 0  # failed writes in a row (0: the last write succeeded)

    def record(self, event: UsageEvent) -> None:
        """Queue `event` (never blocks); the writer starts on first use."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("usage queue full; dropping events", extra={"dropped": self.dropped})
        self._queue.append(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="usage-meter")
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            # After a failed write, wait out the backoff even if the queue fills (each event
            # past the batch size sets the wake): retrying at once made a sink that was down
            # (an unmigrated store) a loop of failing writes, a third of the router's CPU.
            pause = self.interval_seconds if not self.failures else self._backoff()
            until = loop.time() + pause
            while not self._closing and (left := until - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), left)
                self._wake.clear()
                if not self.failures and len(self._queue) >= self.batch_size:
                    break  # a full batch is written at once, unless backing off
            # Only what was queued when the writer woke: events that arrive during the writes
            # wait for the next interval (or a full batch). Chasing them wrote a transaction per
            # few requests under steady traffic instead of one per interval.
            await self.flush(limit=len(self._queue))

    async def flush(self, limit: int | None = None) -> None:
        """Write everything queued (at most `limit` events), a batch at a time; a failed batch
        goes back to the queue."""
        left = float("inf") if limit is None else limit
        while self._queue and left > 0:
            size = int(min(self.batch_size, len(self._queue), left))
            batch = [self._queue.popleft() for _ in range(size)]
            left -= size
            try:
                await self.sink.write(batch)
            except Exception:
                self.failures += 1
                if self.failures == 1:
                    log.exception("usage write failed; retrying with backoff")
                else:
                    log.warning(
                        "usage write failed again",
                        extra={"failures": self.failures, "queued": len(self._queue) + size},
                    )
                self._queue.extendleft(reversed(batch))
                return
            if self.failures:
                log.info("usage writes resumed", extra={"failures": self.failures})
            self.failures = 0
            self.written += len(batch)

    def _backoff(self) -> float:
        """Seconds before retrying after `failures` failed writes in a row: the interval,
        doubled per failure after the first, at most `max_backoff_seconds`."""
        doubled = self.interval_seconds * 2 ** min(self.failures - 1, 30)
        return min(doubled, max(self.max_backoff_seconds, self.interval_seconds))

    async def close(self, timeout_seconds: float = 10.0) -> None:
        """Stops the writer once its batch in flight is written (a batch cancelled mid-write
        would be lost, or written twice), then writes what is left."""
        if self._task is not None:
            self._closing = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout_seconds)
            except TimeoutError:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.flush()
