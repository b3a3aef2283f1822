"""Soak: mixed traffic against one `nexus serve` for minutes; memory and latency over time.

    PYTHONPATH=. .venv/bin/python benchmarks/soak.py [--minutes 10] [--interval 30]
        [--workers 4] [--subscribers 5] [--data-dir var/bench-soak]

Starts `nexus serve` as a separate process (embedded stores, the replay feed on, so market
subscriptions receive live ticks; demand control measuring, so one anonymous client is not
rate-limited), then for `--minutes` runs:
- `--workers` query clients, each sending one of a fixed mix of operations in turn (a macro
  series window, a token's latest price, a stock's candles, the cross-subgraph watchlist query,
  a yield curve), as fast as answers come back;
- one mutation client: a sign-up every 2 s (a password hash and one transaction) and a small
  rate simulation every 10 s;
- `--subscribers` WebSocket clients subscribed to `marketUpdates`, reconnecting if closed.
Every `--interval` seconds it prints the server's resident memory and open file descriptors,
the queries' p50/p99 and count in that interval, errors (by code) and subscription events; at
the end, a summary of the drift. A steady run shows RSS and fds flat after warm-up, and no
errors. It stops by itself (bounded by `--minutes`).

With `--trace`, the server runs under benchmarks/soak_probe.py: tracemalloc from the end of
the first interval (several times slower: on a loaded 2-core machine a few hundred queries a
minute), and each line also shows the Python heap allocated since then and still alive, the
objects the collector tracks and how many of them are frozen (a frozen count that grows is
what the heap keeper froze); the end lists the 20 tracebacks and (unfrozen) object types that
grew most from the first interval to the last. A Python heap that grows with RSS is a leak in
Python code; RSS growing alone is native (chDB, XLA, the allocator).
For growth per query without HTTP, see benchmarks/memory_per_query.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.support.processes import free_port

QUERIES = [
    '{ series(id: "DGS10") { title observations(from: "2024-10-01", to: "2024-12-31") '
    "{ date value } } }",
    '{ token(symbol: "BTC") { name latestPrice { close } } }',
    '{ stock(symbol: "GME") { name candles(from: "2021-01-04", to: "2021-02-26") { close } } }',
    "{ publicWatchlists { name items { key instrument { __typename "
    "... on Token { latestPrice { close } } ... on Series { latest { value } } } } } }",
    '{ yieldCurve(date: "2024-12-31") { date } }',
]
SUBSCRIPTION = 'subscription { marketUpdates(symbols: ["BTC", "ETH"]) { symbol price } }'


@dataclass
class Window:
    """What happened in one reporting interval."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    mutations: int = 0
    events: int = 0
    reconnects: int = 0


def _proc(pid: int) -> tuple[int, int]:
    """(RSS in MiB, open file descriptors) of `pid`."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) // 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def _fd_kinds(pid: int) -> str:
    """Open descriptors of `pid` by kind, and its thread count: tells a leak (sockets or files
    growing) from a thread pool growing (chDB's ClickHouse keeps /proc/thread-self/{stat,
    schedstat,io} open for each of its pool threads to count per-thread CPU and I/O)."""
    kinds: Counter[str] = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("/proc/") and "/task/" in target:
                kinds["per-thread /proc stats"] += 1
            elif ":" in target and not target.startswith("/"):
                kinds[target.split(":")[0]] += 1
            else:
                kinds["files"] += 1
    threads = len(os.listdir(f"/proc/{pid}/task"))
    return ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) + f"; threads {threads}"


def _probe(pid: int, trace_dir: Path, number: int) -> dict[str, Any] | None:
    """Ask the probe for snapshot `number` (SIGUSR1) and read its stats, or None if it is late."""
    os.kill(pid, signal.SIGUSR1)
    path = trace_dir / f"stats-{number}.json"
    for _ in range(1200):  # a snapshot of a big heap takes seconds on a loaded machine
        if path.exists():
            stats: dict[str, Any] = json.loads(path.read_text())
            return stats
        time.sleep(0.1)
    return None


def _growth(trace_dir: Path, first: int, last: int) -> None:
    """The 20 tracebacks and object types that grew most from snapshot `first` to `last`."""
    import tracemalloc

    old = tracemalloc.Snapshot.load(str(trace_dir / f"snap-{first}.tracemalloc"))
    new = tracemalloc.Snapshot.load(str(trace_dir / f"snap-{last}.tracemalloc"))
    noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diffs = new.filter_traces(noise).compare_to(old.filter_traces(noise), "traceback")
    print(f"Python heap growth by traceback, snapshot {first} -> {last} (top 20):")
    for diff in diffs[:20]:
        print(f"  +{diff.size_diff / 1024:,.1f} KiB ({diff.count_diff:+,} blocks)")
        for line in diff.traceback.format(limit=6, most_recent_first=True):
            print(f"      {line}")
    before = dict(json.loads((trace_dir / f"stats-{first}.json").read_text())["gc_tracked_by_type"])
    after = dict(json.loads((trace_dir / f"stats-{last}.json").read_text())["gc_tracked_by_type"])
    grown = sorted(((after[k] - before.get(k, 0), k) for k in after), reverse=True)[:20]
    print("objects tracked by the collector and not frozen, growth by type (top 20):")
    for count, name in grown:
        print(f"  {count:+,} {name} ({after[name]:,})")


def _codes(response: httpx.Response) -> list[str]:
    if response.status_code != 200:
        return [f"HTTP {response.status_code}"]
    errors = response.json().get("errors") or []
    return [str((e.get("extensions") or {}).get("code", "NO_CODE")) for e in errors]


class Soak:
    def __init__(self, url: str, args: argparse.Namespace) -> None:
        self.url = url
        self.args = args
        self.window = Window()
        self.stop = asyncio.Event()
        self.all_latencies: list[float] = []
        self.all_errors: Counter[str] = Counter()

    def take(self) -> Window:
        window, self.window = self.window, Window()
        self.all_latencies.extend(window.latencies)
        self.all_errors.update(window.errors)
        return window

    async def query_worker(self, number: int) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            turn = number
            while not self.stop.is_set():
                query = QUERIES[turn % len(QUERIES)]
                turn += 1
                started = time.perf_counter()
                try:
                    response = await client.post(f"{self.url}/graphql", json={"query": query})
                    codes = _codes(response)
                except httpx.HTTPError as error:
                    codes = [type(error).__name__]
                self.window.latencies.append(time.perf_counter() - started)
                self.window.errors.update(codes)

    async def mutation_worker(self) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            count = 0
            while not self.stop.is_set():
                if count % 5 == 0:
                    query = (
                        "mutation { startRateSimulation(input: {shockBp: 25, horizonYears: 1, "
                        "paths: 2000}) { id } }"
                    )
                else:
                    email = f"soak-{os.getpid()}-{count}@example.com"
                    query = (
                        f'mutation {{ signUp(input: {{email: "{email}", password: "soak '
                        f'password {count}", displayName: "Soak {count}"}}) {{ accessToken }} }}'
                    )
                try:
                    response = await client.post(f"{self.url}/graphql", json={"query": query})
                    self.window.errors.update(_codes(response))
                except httpx.HTTPError as error:
                    self.window.errors[type(error).__name__] += 1
                self.window.mutations += 1
                count += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 2.0)

    async def subscriber(self) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/graphql"
        protocols = [Subprotocol("graphql-transport-ws")]
        while not self.stop.is_set():
            try:
                async with connect(ws_url, subprotocols=protocols, open_timeout=30) as ws:
                    await ws.send('{"type":"connection_init"}')
                    await ws.recv()
                    payload = {"query": SUBSCRIPTION}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    while not self.stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            raw = await asyncio.wait_for(ws.recv(), 1.0)
                            message = json.loads(raw)
                            if message.get("type") == "next":
                                self.window.events += 1
                            elif message.get("type") == "error":
                                code = message["payload"][0].get("extensions", {}).get("code")
                                self.window.errors[f"subscribe {code}"] += 1
                                await asyncio.sleep(5.0)  # refused: retry later
            except Exception as error:  # counted, then the client reconnects as a real one does
                if not self.stop.is_set():
                    self.window.errors[f"ws {type(error).__name__}"] += 1
                    self.window.reconnects += 1
                    await asyncio.sleep(1.0)


async def _main(args: argparse.Namespace) -> None:
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="nexus-soak-"))
    env = {
        **os.environ,
        "NEXUS_DATA_DIR": str(args.data_dir),
        "REDIS_URL": "memory://",
        "NEXUS_DEMAND_CONTROL": "measure",
        "NEXUS_LOG_LEVEL": "WARNING",
        "NEXUS_SIMULATION_JOBS_PER_CALLER": "4",
    }
    for name in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL", "NEXUS_REPLAY"):
        env.pop(name, None)
    command = [sys.executable, "-m", "nexus.assembly.cli", "serve", "--port", str(port)]
    trace_dir = work / "trace"
    if args.trace:
        env["SOAK_TRACE_DIR"] = str(trace_dir)
        command[2] = "benchmarks.soak_probe"
    log = (work / "server.log").open("w")
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measuring
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(900):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"nexus serve did not start; see {work / 'server.log'}")
        soak = Soak(url, args)
        print(
            f"nexus serve (pid {server.pid}); {args.minutes:g} min, {args.workers} query "
            f"workers, 1 mutation worker, {args.subscribers} subscribers; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{'min':>5} {'RSS MiB':>8} {'fds':>5} {'queries':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'mutations':>9} {'events':>7} {'load':>5}  errors"
            + (f"; {'traced MiB':>10} {'gc objects':>10} {'frozen':>8}" if args.trace else "")
        )
        tasks = [asyncio.create_task(soak.query_worker(n)) for n in range(args.workers)]
        tasks.append(asyncio.create_task(soak.mutation_worker()))
        tasks += [asyncio.create_task(soak.subscriber()) for _ in range(args.subscribers)]
        started = time.monotonic()
        end = started + args.minutes * 60
        samples: list[tuple[int, int]] = [_proc(server.pid)]
        probes = 0
        fds_at_start = _fd_kinds(server.pid)
        while time.monotonic() < end:
            await asyncio.sleep(min(args.interval, max(0.0, end - time.monotonic())))
            window = soak.take()
            rss, fds = _proc(server.pid)
            samples.append((rss, fds))
            ordered = sorted(window.latencies)
            p50 = 1000 * statistics.median(ordered) if ordered else float("nan")
            p99 = 1000 * ordered[int(0.99 * (len(ordered) - 1))] if ordered else float("nan")
            errors = ", ".join(f"{code} {n}" for code, n in window.errors.most_common()) or "-"
            heap = ""
            if args.trace:
                probes += 1
                stats = await asyncio.to_thread(_probe, server.pid, trace_dir, probes)
                if stats is not None:
                    frozen = stats["frozen_objects"]
                    objects = sum(n for _, n in stats["gc_tracked_by_type"]) + frozen
                    heap = f"; {stats['python_heap_bytes'] / 2**20:>10.1f} {objects:>10,} "
                    heap += f"{frozen:>8,}"
            print(
                f"{(time.monotonic() - started) / 60:>5.1f} {rss:>8} {fds:>5} {len(ordered):>8} "
                f"{p50:>7.1f} {p99:>7.1f} {window.mutations:>9} {window.events:>7} "
                f"{os.getloadavg()[0]:>5.1f}  {errors}{heap}",
                flush=True,
            )
        soak.stop.set()
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        ordered = sorted(soak.all_latencies)
        after_warm_up = samples[1:] or samples
        print(
            f"summary: {len(ordered)} queries, p50 {1000 * statistics.median(ordered):.1f} ms, "
            f"p99 {1000 * ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms; "
            f"RSS {samples[0][0]} MiB at start, {after_warm_up[0][0]} after the first "
            f"interval, {samples[-1][0]} at the end (max {max(s[0] for s in samples)}); "
            f"fds {samples[0][1]} -> {samples[-1][1]}; errors: "
            + (", ".join(f"{c} {n}" for c, n in soak.all_errors.most_common()) or "none")
        )
        print(f"fds at start: {fds_at_start}\nfds at the end: {_fd_kinds(server.pid)}")
        if args.trace and probes >= 2:
            _growth(trace_dir, 1, probes)
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds per report line")
    parser.add_argument("--workers", type=int, default=4, help="concurrent query clients")
    # Anonymous, as every client here: its plan allows 5 concurrent subscriptions.
    parser.add_argument("--subscribers", type=int, default=5, help="WebSocket subscribers")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/bench-soak"),
        help="the server's data directory (demo data loaded on first run)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="run the server under tracemalloc; print its Python heap and what grew",
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
