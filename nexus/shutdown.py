"""Graceful shutdown: on SIGTERM (or Ctrl+C) stop accepting, finish what is in flight, close
subscriptions so that clients reconnect, all within NEXUS_SHUTDOWN_SECONDS.

uvicorn already stops accepting and waits for open connections; what it cannot know is that a
subscription (a WebSocket or an SSE response) never ends by itself. `draining` is the
process's signal for those: the subscription transports wait on it and end their streams
(WebSocket close 1012 "Service Restart", which graphql-ws clients retry; an SSE response ends
without its `complete` event, which graphql-sse clients retry). Requests still running at the
deadline are cancelled; a second signal exits at once.

Background work that outlives requests (simulation jobs) registers a finisher with `on_drain`;
the app's lifespan awaits them all with `finish_background_work` before the stores close, and
each gets what is left of the deadline to finish, or to hand its work back (persisted with a
status another process reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("nexus.shutdown")

DEFAULT_SHUTDOWN_SECONDS = 30.0
RESTART_CLOSE_CODE = 1012  # RFC 6455 "Service Restart": the client may reconnect


class Draining:
    """Set once when the process begins to shut down; awaitable from any event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self.started_at: float | None = None  # time.monotonic() of the first signal
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    @property
    def started(self) -> bool:
        return self._started

    def begin(self) -> None:
        """Safe from a signal handler or another thread."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self.started_at = time.monotonic()
            waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._started:
                return
            self._waiters.add((loop, future))
        try:
            await future
        finally:
            with self._lock:
                self._waiters.discard((loop, future))

    def reset(self) -> None:
        """Back to serving (tests that drain in-process)."""
        with self._lock:
            self._started = False
            self.started_at = None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


draining = Draining()

# Finishers of background work, held weakly (a runner that is gone has nothing to finish).
Finisher = Callable[[float], Awaitable[None]]
_finishers: list[weakref.WeakMethod[Finisher]] = []
HAND_BACK_SECONDS = 1.0  # kept from the deadline to save what could not finish


def on_drain(finisher: Finisher) -> None:
    """Register a bound method `finisher(seconds)`: at shutdown it finishes its work within
    `seconds`, or saves it as handed back, then returns."""
    _finishers.append(weakref.WeakMethod(finisher))


async def finish_background_work(deadline_seconds: float) -> None:
    """Await every finisher with the time left of the deadline, less what saving takes. A
    shutdown without a signal (a test's app, an embedding host) gives no time: work is handed
    back at once."""
    if draining.started_at is None:
        left = 0.0
    else:
        left = deadline_seconds - (time.monotonic() - draining.started_at)
    seconds = max(0.0, left - min(HAND_BACK_SECONDS, max(0.0, left) / 4))
    finishers = [f for f in (ref() for ref in _finishers) if f is not None]
    _finishers[:] = [ref for ref in _finishers if ref() is not None]
    results = await asyncio.gather(*(f(seconds) for f in finishers), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            log.error("background work not finished cleanly", exc_info=result)


def run_server(
    app: Any,
    *,
    host: str,
    port: int,
    shutdown_seconds: float,
    workers: int = 1,
    **options: Any,
) -> None:
    """uvicorn.run, with `draining` set on the first SIGTERM/SIGINT and a deadline after which
    requests still running are cancelled. The process then ends by the signal it received
    (exit status 143 for SIGTERM, as uvicorn does), after a clean shutdown. With `workers` > 1,
    that many forked processes serve the one listening socket (see `_run_workers`)."""
    import uvicorn

    class DrainingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if not draining.started:
                log.info(
                    "shutting down: finishing requests, closing subscriptions",
                    extra={"signal": sig, "deadline_seconds": shutdown_seconds},
                )
            draining.begin()
            super().handle_exit(sig, frame)

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            from nexus import heap

            heap.freeze_startup_heap()
            self._heap_watch = asyncio.create_task(heap.watch_event_loop(), name="loop watch")

        async def shutdown(self, sockets: Any = None) -> None:
            await super().shutdown(sockets)
            # Export the spans still batched now: uvicorn then re-raises the signal, so the
            # exit status tells a process manager why it stopped, and nothing runs after it.
            from nexus.tracing import shutdown_tracing

            await asyncio.to_thread(shutdown_tracing)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # uvicorn takes whole seconds; at least one, so `0` still lets responses leave.
        timeout_graceful_shutdown=max(1, round(shutdown_seconds)),
        **options,
    )
    if workers > 1:
        _run_workers(config, workers, lambda sockets: DrainingServer(config).run(sockets))
        return
    DrainingServer(config).run()


def _run_workers(config: Any, workers: int, serve: Any) -> None:
    """Fork `workers` processes that accept on one socket bound here (the kernel spreads the
    connections), each running its own event loop over the app built before the fork; the
    parent forwards SIGTERM, SIGINT and SIGHUP to them and exits when they all have."""
    import signal

    sock = config.bind_socket()
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            status = 0
            try:
                serve([sock])
            except BaseException:
                log.exception("worker failed")
                status = 1
            finally:
                os._exit(status)
        children.append(pid)

    def forward(sig: int, _: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    for child in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child, 0)
    sock.close()
