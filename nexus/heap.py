"""What stops every client at once: garbage collections and event-loop stalls, timed and logged.

A collection runs on the thread that allocated past a threshold, the event loop's, so a full
(generation 2) collection that walks a few hundred thousand objects stops every request and
every subscription for as long. `GcClock` times each collection (`gc.callbacks`) and logs the
slow ones with their generation, what they freed and how many objects the collector tracks;
`watch_event_loop` ticks on the loop and logs each stall with the collection time inside it,
so a log tells a garbage-collection pause from any other stall (a CPU-bound call, the machine's
own CPU wait). Both carry the CPU time spent (`cpu_ms`): on a loaded machine the wall time
(`ms`) is mostly waiting for a CPU, the CPU time is the work itself.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from nexus.config import ConfigError

gc_log = logging.getLogger("nexus.gc")
loop_log = logging.getLogger("nexus.loop")

SLOW_COLLECTION_SECONDS = 0.05
TICK_SECONDS = 0.02  # how often the watcher wakes
STALL_SECONDS = 0.1  # a tick this late is logged
YOUNG_THRESHOLD = 10_000  # NEXUS_GC_YOUNG_THRESHOLD's default (Python's: 700)


class GcClock:
    """Time in garbage collections, per generation, since the process started."""

    def __init__(self) -> None:
        self.seconds = 0.0  # all collections together
        self.full_seconds = 0.0  # generation 2 only
        self.collections = [0, 0, 0]
        self._started: float | None = None
        self._cpu_started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._cpu_started = time.thread_time()
            return
        if self._started is None:
            return
        seconds = time.perf_counter() - self._started
        cpu_seconds = time.thread_time() - self._cpu_started
        self._started = None
        generation = int(info.get("generation", 0))
        self.seconds += seconds
        self.collections[generation] += 1
        if generation == 2:
            self.full_seconds += seconds
        keeper.collected(generation, cpu_seconds)
        if seconds > SLOW_COLLECTION_SECONDS:
            gc_log.warning(
                "slow garbage collection",
                extra={
                    "generation": generation,
                    "ms": round(seconds * 1000, 1),
                    # The collector's own work; `ms` beyond it is waiting for a CPU.
                    "cpu_ms": round(cpu_seconds * 1000, 1),
                    "collected": info.get("collected"),
                    # Not len(gc.get_objects()): the list holds a reference to every object,
                    # and another thread may be building one (a tuple being resized) meanwhile.
                    "frozen": gc.get_freeze_count(),
                },
            )


clock = GcClock()


def time_collections() -> None:
    """Install the clock (once per process)."""
    if clock not in gc.callbacks:
        gc.callbacks.append(clock)


async def watch_event_loop() -> None:
    """Tick every TICK_SECONDS; log a tick later than STALL_SECONDS with the time spent in
    garbage collections meanwhile (`gc_ms` near `ms`: the collector stopped the loop)."""
    loop = asyncio.get_running_loop()
    while True:
        gc_before, full_before = clock.seconds, clock.full_seconds
        cpu_before = time.process_time()
        due = loop.time() + TICK_SECONDS
        await asyncio.sleep(TICK_SECONDS)
        late = loop.time() - due
        keeper.tick()
        if late > STALL_SECONDS:
            loop_log.warning(
                "event loop stalled",
                extra={
                    "ms": round(late * 1000, 1),
                    # The process's CPU time meanwhile (all threads): far below `ms`, the
                    # loop was waiting for a CPU, not working.
                    "cpu_ms": round((time.process_time() - cpu_before) * 1000, 1),
                    "gc_ms": round((clock.seconds - gc_before) * 1000, 1),
                    "full_gc_ms": round((clock.full_seconds - full_before) * 1000, 1),
                },
            )


def freeze_mode(environ: Mapping[str, str] | None = None) -> str:
    """NEXUS_GC_FREEZE: `on` (the startup heap, then what survives each full collection),
    `startup` (the startup heap only) or `off`."""
    env = os.environ if environ is None else environ
    mode = env.get("NEXUS_GC_FREEZE", "on").strip().lower()
    if mode not in ("on", "startup", "off"):
        raise ConfigError(f"NEXUS_GC_FREEZE must be `on`, `startup` or `off`, not {mode!r}")
    return mode


def young_threshold(environ: Mapping[str, str] | None = None) -> int:
    """NEXUS_GC_YOUNG_THRESHOLD: container objects allocated (less those freed) between two
    collections of the youngest generation. With Python's default, 700, a router under load
    ran a young collection every three requests, and so (each one promoting what the requests
    in flight held, and the frozen heap leaving the oldest generation small) a full collection
    every few hundred requests, several a second, each walking every object not frozen. At
    10,000 one router process ran about 35 times fewer young and 27 times fewer full
    collections and spent 4-6% less CPU per request (README, Performance, "Garbage
    collection"); a young collection still walks at most about 10,000 objects, well under a
    millisecond."""
    env = os.environ if environ is None else environ
    text = env.get("NEXUS_GC_YOUNG_THRESHOLD", str(YOUNG_THRESHOLD)).strip()
    try:
        threshold = int(text)
    except ValueError:
        threshold = 0
    if not 100 <= threshold <= 1_000_000:
        raise ConfigError(
            f"NEXUS_GC_YOUNG_THRESHOLD must be a whole number from 100 to 1000000, not {text!r}"
        )
    return threshold


def freeze_startup_heap() -> None:
    """Move everything alive after startup (JAX, the schemas, the demo catalogues: about
    300,000 objects) out of the garbage collector's reach. They live as long as the process,
    yet every full collection walked them all on the event loop: one took 0.65 s, a stall for
    every client (measured with gc.callbacks beside a 5 ms loop ticker). Frozen, a full
    collection scans only what requests allocated since. With NEXUS_GC_FREEZE=on (the
    default) `keeper` then keeps freezing what full collections find alive."""
    time_collections()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold(), older, oldest)
    mode = freeze_mode()
    if mode == "off":
        return
    gc.collect()
    gc.freeze()
    keeper.enabled = mode == "on"
    keeper.thawed_at = time.monotonic()
    keeper.frozen_at_thaw = gc.get_freeze_count()
    gc_log.info("startup heap frozen", extra={"objects": gc.get_freeze_count()})


class Keeper:
    """Freeze what full collections find alive once it is worth it; thaw (collect it all once)
    when enough of it may have died.

    Why: Python runs a full collection whenever the objects promoted to the oldest generation
    since the last one exceed a quarter of those it holds. With the startup heap frozen, the
    oldest generation starts nearly empty, so a thousand new WebSocket connections (a few
    hundred objects each) trigger a full collection at every 25% of growth, and each walks
    every connection's objects: 5-8 collections of 0.1-2 s per burst of 1,000 clients, and
    again in steady state as each event's short-lived objects are promoted. Each stops the
    event loop, so every client waits (measured: see README, Performance, Subscriptions).

    What: right after a full collection, everything left in the collector's generations is
    alive: connections, their tasks, caches, and the requests in flight at that moment. When
    the collection took FREEZE_AT_CPU_SECONDS of CPU or more (it walked that many objects),
    `gc.freeze()` moves what it left to the permanent generation, which no collection walks;
    the next full collections scan only what was promoted since. A cheaper collection leaves
    its survivors where they are: walking them again costs no more than this one did. (CPU
    time, not a count of survivors: `gc.get_objects()` in a collection callback holds a
    reference to every object while other threads run, and one building a tuple then fails
    with "SystemError: bad argument to internal function", as the replay feed did.)

    The cost: a frozen object that later becomes cyclic garbage is not reclaimed while frozen:
    a closed connection's objects, and the requests in flight at the freeze (a parsed GraphQL
    document is a cycle: its tokens link to each other). Freezing after every full collection
    froze the requests in flight each time: under the soak's steady queries (5 subscribers)
    about 30 objects, 5-6 KB, per query, never reclaimed before the ten-minute thaw (README,
    Performance, Soak). Hence the threshold: steady queries with a few subscribers do not make
    the keeper freeze. Except while FREEZE_WITH_CONNECTIONS subscription connections or more
    are open: their traffic (10,000 events/s to 1,000 clients) promotes ~10,000 objects a
    second, so without a freeze after every full collection the unfrozen heap grows until
    each collection is a 50-100 ms pause in the middle of their events (measured: p99 240-263
    ms in 2 of 5 runs of the 1,000-client benchmark with the CPU rule alone); what that
    freezes of their events in flight is reclaimed by the thaws below.
    And it thaws (`gc.unfreeze()`, one full collection, freeze again: one pause like those it
    saves) once as many subscription connections have closed since the last thaw as are open
    (at least THAW_AFTER_CLOSED), once the frozen heap has grown to THAW_AT_GROWTH times what
    it was after the last thaw (so frozen garbage stays below twice the live heap of the last
    thaw, and each thaw's walk is paid for by twice as many objects frozen; 3, not 2: the
    startup heap is about 370,000 objects and 1,000 subscription clients add about 330,000,
    which must not make a thaw, a half-second pause, in the middle of their traffic), or
    THAW_SECONDS after a freeze if nothing else did."""

    FREEZE_AT_CPU_SECONDS = SLOW_COLLECTION_SECONDS
    FREEZE_WITH_CONNECTIONS = 100
    THAW_AT_GROWTH = 3
    THAW_AFTER_CLOSED = 500
    THAW_SECONDS = 600.0

    def __init__(self) -> None:
        self.enabled = False
        self.open = 0  # subscription connections (WebSocket or SSE) open now
        self.closed = 0  # and closed since the last thaw
        self.freezes = 0  # full collections frozen after, since the last thaw
        self.thaws = 0
        self.thawed_at = 0.0
        self.frozen_at_thaw = 0  # gc.get_freeze_count() after the last thaw (or startup)
        self.skipped = 0  # full collections too cheap to freeze after, since the last thaw
        self._due: str | None = None  # a thaw the loop watcher runs (not inside a collection)

    def collected(self, generation: int, cpu_seconds: float) -> None:
        """From the collection clock, after each collection (`cpu_seconds`: its CPU time)."""
        if not self.enabled or generation != 2:
            return
        if cpu_seconds < self.FREEZE_AT_CPU_SECONDS and self.open < self.FREEZE_WITH_CONNECTIONS:
            self.skipped += 1  # cheap to walk; freezing would keep the requests in flight
            return
        gc.freeze()  # what a full collection leaves is alive: nothing left to collect
        self.freezes += 1
        if gc.get_freeze_count() > self.THAW_AT_GROWTH * self.frozen_at_thaw:
            self._due = "frozen heap grew"

    def opened(self) -> None:
        self.open += 1

    def closed_one(self) -> None:
        self.open -= 1
        self.closed += 1
        if not self.enabled or not self.freezes:
            return
        if self.closed >= max(self.THAW_AFTER_CLOSED, self.open):
            self.thaw("connections closed")

    def tick(self) -> None:
        """From the loop watcher: thaw when due, or what has been frozen THAW_SECONDS."""
        if not self.enabled or not self.freezes:
            return
        if self._due is not None:
            self.thaw(self._due)
        elif time.monotonic() - self.thawed_at > self.THAW_SECONDS:
            self.thaw("interval")

    def thaw(self, reason: str) -> None:
        started = time.perf_counter()
        self.enabled = False  # the collection below must not refreeze from its callback
        try:
            gc.unfreeze()
            collected = gc.collect()
            gc.freeze()
        finally:
            self.enabled = True
        gc_log.info(
            "heap thawed and collected",
            extra={
                "reason": reason,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "collected": collected,
                "freezes": self.freezes,
                "closed": self.closed,
                "open": self.open,
            },
        )
        self.closed = 0
        self.freezes = 0
        self.skipped = 0
        self.thaws += 1
        self.thawed_at = time.monotonic()
        self.frozen_at_thaw = gc.get_freeze_count()
        self._due = None


keeper = Keeper()
