"""Subscription benchmark: publish-to-client latency and delivery rate through the router.

    PYTHONPATH=. .venv/bin/python benchmarks/subscriptions.py \
        [--clients 1 100 1000] [--runs 1] [--rate 10] [--seconds 10] [--explain] \
        [--variants default NEXUS_GC_FREEZE=startup NEXUS_HARDENING_CHECKS=off]

The 1,000-client target, five runs, the tail explained:
`--clients 1000 --runs 5 --explain`; side by side with the hardening checks off:
`--clients 1000 --runs 5 --variants default NEXUS_HARDENING_CHECKS=off`.

Starts a Redis server of its own (the machine's `redis-server`) and, for each `--variants`
entry in turn, `nexus serve` as a separate process on it (replay feed off; `default`, or the
environment given as NAME=VALUE[,NAME=VALUE]). For each client count, `--runs` times (fresh
clients each run): opens that many graphql-transport-ws connections to /graphql in batches of
100 (each batch receiving before the next connects), each subscribing to `marketUpdates` of one
symbol (clients spread over eight symbols, so several clients share each stream, as real
clients of popular symbols do), publishes `--rate` ticks per second per symbol on Redis (spread
evenly over the second), and measures for `--seconds`: latency from the publisher's timestamp
(in the tick) to the moment a client has the message (p50, p99, max), delivered events per
second against those expected, and the server's resident memory (per connection, and after
the clients left). Clients and publisher share one process and the same clock. The clients are
one signed-in caller on the enterprise plan (1,000 concurrent subscriptions; the benchmark
signs up an account and sets its plan in the server's own store), demand control measuring.
A summary line per variant and client count closes the run.

`--explain` attributes every event later than 100 ms: the server logs its garbage collections
over 50 ms (`nexus.gc`, with generation, objects collected and tracked) and its event-loop
stalls over 100 ms (`nexus.loop`, with the collection time inside them); this process records
its own collections and stalls the same way. Each late event is counted under the pauses that
overlap its wait (publish to arrival), and every pause of the row is listed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from nexus.events import MarketTick, encode, market_channel
from nexus.stores.bus import RedisBus
from tests.support.processes import free_port
from tests.support.redis_server import RedisServer

SYMBOLS = (
    ("BTC", "crypto"),
    ("ETH", "crypto"),
    ("USDT", "crypto"),
    ("GME", "stock"),
    ("AMC", "stock"),
    ("BB", "stock"),
    ("NOK", "stock"),
    ("TSLA", "stock"),
)
CONNECT_SECONDS = 300  # for a batch of 100 clients to get their first event
LATE_SECONDS = 0.1  # the target: an event later than this is attributed to a pause
QUERY = "subscription($s: [String!]!) { marketUpdates(symbols: $s) { symbol price publishedAt } }"


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Client:
    def __init__(self, url: str, symbol: str, token: str) -> None:
        self.url = url
        self.symbol = symbol
        self.token = token
        self.latencies: list[float] = []
        self.arrivals: list[float] = []  # time.time() each measured event arrived
        self.received = 0
        self.measuring = False
        self.ready = asyncio.Event()
        self.refusal: str | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        protocols = [Subprotocol("graphql-transport-ws")]
        async with connect(
            self.url, subprotocols=protocols, ping_interval=None, open_timeout=CONNECT_SECONDS
        ) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            await ws.send(json.dumps(init))
            await ws.recv()
            payload = {"query": QUERY, "variables": {"s": [self.symbol]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message.get("type") != "next":
                    if message.get("type") == "error":  # reported if it never gets ready
                        self.refusal = str(message["payload"][0].get("extensions", {}).get("code"))
                    continue
                self.ready.set()
                if self.measuring:
                    update = message["payload"]["data"]["marketUpdates"]
                    sent = dt.datetime.fromisoformat(update["publishedAt"]).timestamp()
                    self.latencies.append(now - sent)
                    self.arrivals.append(now)
                    self.received += 1


Interval = tuple[float, float, str]  # wall-clock start, end, what


class Pauses:
    """This process's own garbage collections and event-loop stalls: a late event may have
    waited in the client, not in the server."""

    def __init__(self) -> None:
        self.intervals: list[Interval] = []
        self._started: float | None = None

    def on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        seconds = time.perf_counter() - self._started
        self._started = None
        if seconds > 0.02:
            end = time.time()
            label = f"client gc gen{info.get('generation')} {seconds * 1000:.0f} ms"
            self.intervals.append((end - seconds, end, label))

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.02
            await asyncio.sleep(0.02)
            late = loop.time() - due
            if late > 0.05:
                end = time.time()
                self.intervals.append((end - late, end, f"client stall {late * 1000:.0f} ms"))


def _server_pauses(log: Path, since: float, until: float) -> list[Interval]:
    """The server's slow collections (`nexus.gc`) and event-loop stalls (`nexus.loop`) that
    overlap [since, until], from its JSON log (a line's `ts` is when the pause ended)."""
    found: list[Interval] = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") not in ("nexus.gc", "nexus.loop") or "ms" not in entry:
            continue
        end = dt.datetime.fromisoformat(entry["ts"]).timestamp()
        start = end - entry["ms"] / 1000
        if end < since or start > until:
            continue
        if entry["logger"] == "nexus.gc":
            label = (
                f"server gc gen{entry.get('generation')} {entry['ms']:.0f} ms "
                f"(CPU {entry.get('cpu_ms')} ms, collected {entry.get('collected')}, "
                f"left {entry.get('tracked')} unfrozen)"
            )
        else:
            label = (
                f"server stall {entry['ms']:.0f} ms (CPU {entry.get('cpu_ms')} ms, "
                f"gc {entry.get('gc_ms')} ms)"
            )
        found.append((start, end, label))
    return found


def _attribute(late: list[tuple[float, float]], pauses: list[Interval]) -> Counter[str]:
    """For each late event (arrival, latency): which pause overlapped its wait."""
    causes: Counter[str] = Counter()
    for arrival, latency in late:
        hits = [p for p in pauses if p[0] <= arrival and p[1] >= arrival - latency]
        kinds = {label.split(" ")[0] + " " + label.split(" ")[1] for _, _, label in hits}
        causes[", ".join(sorted(kinds)) or "no pause logged"] += 1
    return causes


async def _publish(bus: RedisBus, rate: float, stop: asyncio.Event) -> int:
    """`rate` ticks per second per symbol, the symbols' ticks spread evenly over each period
    (as independent instruments trade), not all at the same instant."""
    published = 0
    step = 1.0 / rate / len(SYMBOLS)
    next_at = time.perf_counter()
    price = 100.0
    while not stop.is_set():
        for symbol, asset_class in SYMBOLS:
            tick = MarketTick(
                symbol=symbol,
                asset_class=asset_class,  # type: ignore[arg-type]
                price=price,
                open=100.0,
                high=price,
                low=price,
                previous_close=100.0,
                volume=1.0,
                at=dt.datetime.now(dt.UTC),
                published_at=time.time(),
            )
            await bus.publish(market_channel(symbol), encode(tick), retain=True)
            published += 1
            next_at += step
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        price += 0.01
    return published


async def _scenario(
    url: str,
    server_pid: int,
    bus: RedisBus,
    clients: int,
    rate: float,
    seconds: float,
    token: str,
    server_log: Path,
    pauses: Pauses,
) -> dict[str, Any]:
    base_rss = _rss_kib(server_pid)
    group = [Client(url, SYMBOLS[n % len(SYMBOLS)][0], token) for n in range(clients)]
    stop = asyncio.Event()
    publisher = asyncio.create_task(_publish(bus, rate, stop))
    # Connect in batches of 100, each ready (its first event in) before the next: the accept
    # queue is finite, and on a loaded machine a burst of 1,000 handshakes outlasts any timeout.
    for start in range(0, clients, 100):
        batch = group[start : start + 100]
        for client in batch:
            client.task = asyncio.create_task(client.run())
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                await asyncio.gather(*(client.ready.wait() for client in batch))
        except TimeoutError:
            waiting = [c for c in batch if not c.ready.is_set()]
            reasons = Counter(
                c.refusal or ("closed" if c.task and c.task.done() else "silent") for c in waiting
            )
            await _stop(group, stop, publisher)
            return {
                "clients": clients,
                "failed": f"{len(waiting)} of clients {start + 1}-{start + len(batch)} got no "
                f"event in {CONNECT_SECONDS} s: {dict(reasons)}",
            }
    await asyncio.sleep(1.0)
    rss = _rss_kib(server_pid)
    for client in group:
        client.measuring = True
    started = time.perf_counter()
    wall_started = time.time()
    await asyncio.sleep(seconds)
    for client in group:
        client.measuring = False
    elapsed = time.perf_counter() - started
    wall_ended = time.time()
    await _stop(group, stop, publisher)
    latencies = sorted(x for c in group for x in c.latencies)
    delivered = sum(c.received for c in group)
    events = [(at, x) for c in group for at, x in zip(c.arrivals, c.latencies, strict=True)]
    late = [event for event in events if event[1] > LATE_SECONDS]
    window = [
        p
        for p in pauses.intervals + _server_pauses(server_log, wall_started - 1, wall_ended + 1)
        if p[1] >= wall_started - 1 and p[0] <= wall_ended + 1
    ]
    causes = _attribute(late, window)
    worst = max(events, key=lambda e: e[1]) if events else (wall_started, float("nan"))
    near = [
        f"{p[2]} ending at +{p[1] - wall_started:.2f} s"
        for p in sorted(window)
        if p[0] <= worst[0] and p[1] >= worst[0] - worst[1]
    ]
    return {
        "clients": clients,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "max_ms": 1000 * worst[1],
        "worst": f"+{worst[0] - wall_started:.2f} s, overlapping: {'; '.join(near) or 'none'}",
        "late": len(late),
        "causes": causes,
        "pauses": [f"+{p[0] - wall_started:.2f} s {p[2]}" for p in sorted(window)],
        "delivered_per_s": delivered / elapsed,
        "expected_per_s": clients * rate,
        # Resident memory grows in pages and arenas: per connection only means something at scale.
        "kib_per_connection": (rss - base_rss) / clients if clients >= 100 else float("nan"),
        "rss_kib": rss,
    }


async def _stop(group: list[Client], stop: asyncio.Event, publisher: asyncio.Task[int]) -> None:
    stop.set()
    await publisher
    for client in group:
        if client.task is not None:
            client.task.cancel()
    await asyncio.gather(*(c.task for c in group if c.task), return_exceptions=True)


async def _enterprise_token(url: str, data_dir: Path) -> str:
    """An access token of a fresh account on the enterprise plan: the clients are one caller,
    and only that plan allows 1,000 concurrent subscriptions (anonymous: 5). The plan is set
    in the server's own platform store (SQLite in its data directory), as an operator would."""
    email = f"bench-{os.getpid()}-{time.time_ns()}@example.com"
    sign_up = (
        f'mutation {{ signUp(input: {{email: "{email}", password: "benchmark password", '
        'displayName: "Benchmark"}) { organization { id } } }'
    )
    async with httpx.AsyncClient(timeout=60) as http:
        body = (await http.post(f"{url}/graphql", json={"query": sign_up})).json()
        organization = body["data"]["signUp"]["organization"]["id"]
        with sqlite3.connect(data_dir / "platform.db") as db:
            db.execute("UPDATE organizations SET plan = 'enterprise' WHERE id = ?", (organization,))
        sign_in = (
            f'mutation {{ signIn(email: "{email}", password: "benchmark password") '
            "{ accessToken } }"
        )
        body = (await http.post(f"{url}/graphql", json={"query": sign_in})).json()
        return str(body["data"]["signIn"]["accessToken"])


def _variant_env(variant: str) -> dict[str, str]:
    """`default`, or `NAME=VALUE[,NAME=VALUE]`: the server's environment beyond the defaults."""
    if variant == "default":
        return {}
    pairs = [part.partition("=") for part in variant.split(",")]
    if any(not name or not sep for name, sep, _ in pairs):
        raise SystemExit(f"--variants takes `default` or NAME=VALUE[,NAME=VALUE], not {variant!r}")
    return {name: value for name, _, value in pairs}


async def _main(args: argparse.Namespace) -> None:
    _raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="nexus-bench-subscriptions-"))
    redis = RedisServer(work)
    redis.start()
    bus = RedisBus(redis.url)
    pauses = Pauses()
    gc.callbacks.append(pauses.on_collection)
    watcher = asyncio.create_task(pauses.watch())
    print(
        f"{args.rate:g} events/s per client, {args.seconds:g} s per row, {len(SYMBOLS)} symbols, "
        f"{os.cpu_count()} CPUs; Redis {redis.url}; server logs in {work}"
    )
    rows: list[dict[str, Any]] = []
    try:
        for number, variant in enumerate(args.variants):
            log = work / f"server-{number}.log"
            rows += await _serve_variant(args, redis.url, bus, variant, log, pauses)
    finally:
        watcher.cancel()
        await bus.close()
        redis.stop()
    for variant in args.variants:
        for clients in dict.fromkeys(args.clients):
            tried = [r for r in rows if r["clients"] == clients and r["variant"] == variant]
            group = [r for r in tried if "failed" not in r]
            if not group:
                print(f"summary [{variant}] {clients} clients: every run failed to connect")
                continue
            p99s = [row["p99_ms"] for row in group]
            met = sum(p99 < 100 for p99 in p99s)
            print(
                f"summary [{variant}] {clients} clients, {len(group)} runs: p50 "
                f"{min(r['p50_ms'] for r in group):.1f}-{max(r['p50_ms'] for r in group):.1f} ms, "
                f"p99 {', '.join(f'{p:.1f}' for p in p99s)} ms (worst {max(p99s):.1f}), max "
                f"{max(r['max_ms'] for r in group):.0f} ms, delivered "
                f"{min(r['delivered_per_s'] / r['expected_per_s'] for r in group):.2%}+, load "
                f"{min(r['load'] for r in group):.1f}-{max(r['load'] for r in group):.1f}; "
                f"p99 < 100 ms in {met} of {len(group)} runs"
                + (
                    f" ({len(tried) - len(group)} more failed to connect)"
                    if len(tried) > len(group)
                    else ""
                )
            )


async def _serve_variant(
    args: argparse.Namespace,
    redis_url: str,
    bus: RedisBus,
    variant: str,
    log_path: Path,
    pauses: Pauses,
) -> list[dict[str, Any]]:
    """Start `nexus serve` with the variant's environment, run every row, stop it."""
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "NEXUS_REPLAY": "off",
        "NEXUS_DATA_DIR": str(args.data_dir),
        "NEXUS_LOG_LEVEL": "WARNING",
        # Every client here is anonymous from one address: the anonymous plan's cost budget
        # (1,000 units a minute) refuses the subscribes past it, so measure, do not enforce.
        "NEXUS_DEMAND_CONTROL": "measure",
        # A loaded machine takes longer than the default 10 s to read and answer 100
        # handshakes (the server's loop waits for a CPU): its timeouts would close them.
        "NEXUS_WS_INIT_TIMEOUT_SECONDS": str(CONNECT_SECONDS),
        "NEXUS_HEADER_TIMEOUT_SECONDS": str(CONNECT_SECONDS),
        **_variant_env(variant),
    }
    for name in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL"):
        env.pop(name, None)
    log = log_path.open("w")
    server = subprocess.Popen(  # noqa: ASYNC220 - started before any measuring
        [sys.executable, "-m", "nexus.assembly.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_raise_file_limit,
    )
    rows: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"nexus serve did not start; see {log_path}")
        token = await _enterprise_token(f"http://127.0.0.1:{port}", args.data_dir)
        for symbol, asset_class in SYMBOLS:  # stocks are known to the stream by a last tick
            tick = MarketTick(
                symbol=symbol,
                asset_class=asset_class,  # type: ignore[arg-type]
                price=100.0,
                open=100.0,
                high=100.0,
                low=100.0,
                previous_close=100.0,
                volume=1.0,
                at=dt.datetime.now(dt.UTC),
                published_at=time.time(),
            )
            await bus.publish(market_channel(symbol), encode(tick), retain=True)
        url = f"ws://127.0.0.1:{port}/graphql"
        ready_rss = _rss_kib(server.pid)
        print(f"[{variant}] nexus serve (pid {server.pid}), RSS {ready_rss / 1024:.0f} MiB ready")
        print(
            f"{'run':>4} {'clients':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
            f"{'delivered/s':>12} {'expected/s':>11} {'KiB/conn':>9} {'RSS MiB':>8} "
            f"{'load 1m':>8}"
        )
        counts = [clients for clients in args.clients for _ in range(args.runs)]
        for run, clients in enumerate(counts, 1):
            row = await _scenario(
                url, server.pid, bus, clients, args.rate, args.seconds, token, log_path, pauses
            )
            row["load"] = os.getloadavg()[0]
            row["variant"] = variant
            rows.append(row)
            if "failed" in row:
                print(f"{run:>4} {clients:>8} failed (load {row['load']:.2f}): {row['failed']}")
                await asyncio.sleep(5.0)
                continue
            print(
                f"{run:>4} {row['clients']:>8} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
                f"{row['max_ms']:>8.1f} {row['delivered_per_s']:>12.0f} "
                f"{row['expected_per_s']:>11.0f} {row['kib_per_connection']:>9.1f} "
                f"{row['rss_kib'] / 1024:>8.0f} {row['load']:>8.2f}",
                flush=True,
            )
            if args.explain:
                late = ", ".join(f"{n} {cause}" for cause, n in row["causes"].most_common())
                print(f"       events over {LATE_SECONDS * 1000:.0f} ms: {row['late']} ({late})")
                print(f"       slowest event: {row['worst']}")
                for line in row["pauses"]:
                    print(f"       pause {line}")
            await asyncio.sleep(1.0)
        await asyncio.sleep(5.0)
        print(
            f"[{variant}] server RSS: {ready_rss / 1024:.0f} MiB ready, "
            f"{max((r.get('rss_kib', 0) for r in rows), default=0) / 1024:.0f} MiB at most "
            "with clients, "
            f"{_rss_kib(server.pid) / 1024:.0f} MiB 5 s after the last clients left"
        )
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument(
        "--runs", type=int, default=1, help="rows (fresh clients each) per client count"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="per row: the events over 100 ms, what pause (server or client garbage "
        "collection, event-loop stall) overlapped each, and every pause logged",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["default"],
        help="servers to measure in turn, each for every row: `default`, or its environment "
        "as NAME=VALUE[,NAME=VALUE] (NEXUS_GC_FREEZE=startup, NEXUS_HARDENING_CHECKS=off)",
    )
    parser.add_argument("--rate", type=float, default=10.0, help="events/s per client")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per row")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/bench-subscriptions"),
        help="the server's data directory (demo data loaded on first run)",
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
