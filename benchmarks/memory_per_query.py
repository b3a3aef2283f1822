"""Memory kept per query: the soak's query mix in-process, RSS and the Python heap per query.

    .venv/bin/python -m benchmarks.memory_per_query [--queries 20000]
        [--warm-up 3000] [--rounds 3] [--trace FRAMES] [--no-replay] [--mutations]

The assembled app of `nexus serve` (all four subgraphs, embedded stores, the soak's data
directory, demand control measuring) driven through httpx's ASGI transport by 4 concurrent
clients cycling through benchmarks/soak.py's five queries: no sockets, no other process. After
`--warm-up` queries, `--rounds` rounds of `--queries` each; after each: RSS, the objects the
collector tracks, and with `--trace` the Python heap tracemalloc sees (started after the
warm-up) and the 15 tracebacks that grew most in the round. Growth per query in Python heap
and in RSS tells a Python leak (objects kept) from native growth (chDB, XLA, the allocator).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import time
import tracemalloc
from pathlib import Path

import httpx

from benchmarks.soak import QUERIES


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _tracked() -> int:
    """Objects the collector tracks, frozen ones included. (gc.get_objects() holds a reference
    to every object while other threads run; one resizing a tuple it builds can then fail:
    fine between rounds of a benchmark, not in a server.)"""
    return len(gc.get_objects()) + gc.get_freeze_count()


async def _drive(http: httpx.AsyncClient, count: int, *, mutations: bool) -> int:
    sent = 0
    failed = 0

    async def client(number: int) -> None:
        nonlocal sent, failed
        turn = number
        while sent < count:
            sent += 1
            query = QUERIES[turn % len(QUERIES)]
            turn += 1
            response = await http.post("/graphql", json={"query": query})
            if response.status_code != 200 or response.json().get("errors"):
                failed += 1

    async def signups() -> None:
        number = 0
        while sent < count:
            email = f"mem-{os.getpid()}-{time.monotonic_ns()}@example.com"
            query = (
                f'mutation {{ signUp(input: {{email: "{email}", password: "memory probe '
                f'{number}", displayName: "Probe {number}"}}) {{ accessToken }} }}'
            )
            await http.post("/graphql", json={"query": query})
            number += 1
            await asyncio.sleep(0.2)

    tasks = [client(n) for n in range(4)] + ([signups()] if mutations else [])
    await asyncio.gather(*tasks)
    return failed


async def _main(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            "NEXUS_DATA_DIR": str(args.data_dir),
            "REDIS_URL": "memory://",
            "NEXUS_DEMAND_CONTROL": "measure",
            "NEXUS_LOG_LEVEL": "WARNING",
        }
    )
    for name in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL"):
        os.environ.pop(name, None)
    if args.no_replay:
        os.environ["NEXUS_REPLAY"] = "off"
    else:
        os.environ.pop("NEXUS_REPLAY", None)
    from nexus import heap
    from nexus.assembly.app import create_app
    from nexus.assembly.cli import _migrate
    from nexus.assembly.registry import SUBGRAPH_NAMES
    from nexus.config import Settings
    from nexus.logs import configure_logging
    from nexus.tracing import configure_tracing

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    configure_tracing("nexus-serve")
    await _migrate(settings, "head", downgrade=False)
    app = create_app(settings, list(SUBGRAPH_NAMES))
    libc = ctypes.CDLL("libc.so.6")
    async with app.router.lifespan_context(app):
        heap.freeze_startup_heap()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nexus") as http:
            ready = await http.get("/readyz")
            for _ in range(600):
                if ready.status_code == 200:
                    break
                await asyncio.sleep(0.5)
                ready = await http.get("/readyz")
            started = time.process_time()
            failed = await _drive(http, args.warm_up, mutations=args.mutations)
            print(
                f"warm-up: {args.warm_up} queries, {failed} failed, "
                f"{time.process_time() - started:.1f} s CPU; RSS {_rss_kib() / 1024:,.0f} MiB, "
                f"{_tracked():,} objects tracked",
                flush=True,
            )
            if args.trace:
                tracemalloc.start(args.trace)
            previous = tracemalloc.take_snapshot() if args.trace else None
            rss = _rss_kib()
            for number in range(1, args.rounds + 1):
                started = time.process_time()
                failed = await _drive(http, args.queries, mutations=args.mutations)
                cpu = time.process_time() - started
                now = _rss_kib()
                line = (
                    f"round {number}: {args.queries} queries ({failed} failed, {cpu:.1f} s CPU); "
                    f"RSS {now / 1024:,.0f} MiB ({(now - rss) * 1024 / args.queries:+,.0f} B per "
                    f"query); {_tracked():,} objects tracked ({gc.get_freeze_count():,} frozen; "
                    f"keeper: {heap.keeper.freezes} freezes and {heap.keeper.skipped} cheap full "
                    f"collections since its last thaw, {heap.keeper.thaws} thaws)"
                )
                rss = now
                if args.trace and previous is not None:
                    snapshot = tracemalloc.take_snapshot()
                    current, _ = tracemalloc.get_traced_memory()
                    grown = sum(s.size_diff for s in snapshot.compare_to(previous, "filename"))
                    line += (
                        f"; Python heap {current / 2**20:,.1f} MiB traced "
                        f"({grown / args.queries:+,.0f} B per query)"
                    )
                    print(line, flush=True)
                    noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
                    diffs = snapshot.filter_traces(noise).compare_to(
                        previous.filter_traces(noise), "traceback"
                    )
                    for diff in diffs[:15]:
                        print(f"  +{diff.size_diff / 1024:,.1f} KiB ({diff.count_diff:+,} blocks)")
                        for frame in diff.traceback.format(
                            limit=args.trace, most_recent_first=True
                        ):
                            print(f"      {frame}")
                    previous = snapshot
                else:
                    print(line, flush=True)
                if args.trim:
                    libc.malloc_trim(0)
                    print(f"  after malloc_trim(0): RSS {_rss_kib() / 1024:,.0f} MiB", flush=True)
        with contextlib.suppress(Exception):
            await transport.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=20_000, help="queries per round")
    parser.add_argument("--warm-up", type=int, default=3_000, help="queries before measuring")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames (0: off)")
    parser.add_argument("--no-replay", action="store_true", help="without the replay feed")
    parser.add_argument("--mutations", action="store_true", help="a sign-up every 0.2 s too")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) after each round")
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench-soak"))
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
