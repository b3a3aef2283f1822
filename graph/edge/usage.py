"""Usage metering off the request path: each operation's caller, key, name, costs and outcome,
queued in memory and written in batches by one background task.

Recording never waits and never fails a request: the queue is bounded (the oldest events are
dropped, counted and logged when the sink falls that far behind), a failed write is retried with
the next batch, and closing the meter flushes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from nexus.auth.caller import Caller

log = logging.getLogger("graph.edge")

UsageStatus = Literal["ok", "error", "refused", "rate_limited"]


@dataclass(frozen=True, slots=True)
class UsageEvent:
    at: dt.datetime  # UTC
    caller_kind: str
    organization_id: str | None
    user_id: str | None
    api_key_id: str | None
    client_id: str | None
    plan: str
    operation_name: str | None
    estimated_cost: int  # cost units
    actual_cost: int  # cost units
    status: UsageStatus

    @classmethod
    def of(
        cls,
        caller: Caller,
        operation_name: str | None,
        estimated: int,
        actual: int,
        status: UsageStatus,
    ) -> UsageEvent:
        return cls(
            at=dt.datetime.now(dt.UTC),
            caller_kind=caller.kind,
            organization_id=caller.organization_id,
            user_id=caller.user_id,
            api_key_id=caller.api_key_id,
            client_id=caller.client_id,
            plan=caller.plan.name,
            operation_name=operation_name,
            estimated_cost=estimated,
            actual_cost=actual,
            status=status,
        )


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
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued, a batch at a time; a failed batch goes back to the queue."""
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            try:
                await self.sink.write(batch)
            except Exception:
                log.exception("usage write failed; retrying with the next batch")
                self._queue.extendleft(reversed(batch))
                return
            self.written += len(batch)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
