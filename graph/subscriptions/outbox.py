"""A client's outgoing messages: a bounded queue drained by its own sender task.

Producers (the shared streams) only ever `put`, which never waits: a client that reads slower
than its events arrive fills its own queue and nobody else's. When the queue is full the policy
is to drop the CLIENT, not events: `on_overflow` runs once (the protocols close the WebSocket
with 1013 "try again later", or end the SSE response), so a client never silently misses an
alert, and a reconnecting client starts fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from nexus.heap import keeper

log = logging.getLogger("graph.subscriptions")

DEFAULT_LIMIT = 1024
FLUSH_SECONDS = 1.0


class Outbox:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        on_overflow: Callable[[], Coroutine[Any, Any, None]],
        *,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.send = send
        self.on_overflow = on_overflow
        self.limit = limit
        self.queue: asyncio.Queue[str] = asyncio.Queue(limit)
        self.overflowed = False
        self.sent = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name="outbox")
        keeper.opened()  # one client connection: the heap keeper counts them

    def put(self, message: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("slow client dropped", extra={"queued": self.limit})
            asyncio.get_running_loop().create_task(self.on_overflow())

    async def _drain(self) -> None:
        try:
            while True:
                message = await self.queue.get()
                await self.send(message)
                self.sent += 1
                self.queue.task_done()
        except asyncio.CancelledError:
            raise
        except Exception:  # the connection went away: the receive loop will notice and clean up
            return

    async def flush(self) -> None:
        """Wait (a second at most) until what is queued has been sent."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), FLUSH_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            if not self._closed:
                self._closed = True
                keeper.closed_one()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
