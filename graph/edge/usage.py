"""Usage metering off the request path: each operation's caller, key, name, costs and outcome,
queued in memory and written in batches by one background task.

Recording never waits and never fails a request: the queue is bounded (the oldest events are
dropped, counted and logged when the sink falls that far behind), a failed write is retried with
the next batch, and closing the meter flushes what is left.
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
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.interval_seconds = interval_seconds
        self._queue: deque[UsageEvent] = deque(maxlen=max_queued)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.dropped = 0
        self.written = 0

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
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
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
                log.exception("usage write failed; retrying with the next batch")
                self._queue.extendleft(reversed(batch))
                return
            self.written += len(batch)

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
