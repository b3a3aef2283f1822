"""Subscription benchmark: publish-to-client latency and delivery rate through the router.

    PYTHONPATH=. .venv/bin/python benchmarks/subscriptions.py \
        [--clients 1 100 1000] [--rate 10] [--seconds 10]

Starts a Redis server of its own (the machine's `redis-server`) and `nexus serve` as a separate
process on it (replay feed off), then for each client count: opens that many graphql-transport-ws
connections to /graphql, each subscribing to `marketUpdates` of one symbol (clients spread over
eight symbols, so several clients share each stream, as real clients of popular symbols do),
publishes `--rate` ticks per second per symbol on Redis (spread evenly over the second), and
measures for `--seconds`:
latency from the publisher's timestamp (in the tick) to the moment a client has the message,
delivered events per second against those expected, and the server's resident memory per
connection. It stops by itself. Clients and publisher share one process and the same clock.
The clients are one signed-in caller on the enterprise plan (1,000 concurrent subscriptions;
the benchmark signs up an account and sets its plan in the server's own store), demand control
measuring. Repeat a count for several runs in one server: `--clients 1000 1000 1000 1000 1000`.
The server logs garbage collections over 50 ms (`slow garbage collection`) in
`/tmp/nexus-bench-subscriptions-*/server.log`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
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
        self.received = 0
        self.measuring = False
        self.ready = asyncio.Event()
        self.refusal: str | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        protocols = [Subprotocol("graphql-transport-ws")]
        async with connect(
            self.url, subprotocols=protocols, ping_interval=None, open_timeout=60
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
                    self.received += 1


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
    url: str, server_pid: int, bus: RedisBus, clients: int, rate: float, seconds: float, token: str
) -> dict[str, Any]:
    base_rss = _rss_kib(server_pid)
    group = [Client(url, SYMBOLS[n % len(SYMBOLS)][0], token) for n in range(clients)]
    for start in range(0, clients, 100):  # connect in batches: the accept queue is finite
        for client in group[start : start + 100]:
            client.task = asyncio.create_task(client.run())
        await asyncio.sleep(0.2)
    stop = asyncio.Event()
    publisher = asyncio.create_task(_publish(bus, rate, stop))
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(*(client.ready.wait() for client in group))
    except TimeoutError:
        waiting = [c for c in group if not c.ready.is_set()]
        reasons = Counter(
            c.refusal or ("closed" if c.task and c.task.done() else "silent") for c in waiting
        )
        raise SystemExit(
            f"{len(waiting)} of {clients} clients got no event in 120 s: {reasons}"
        ) from None
    await asyncio.sleep(1.0)
    rss = _rss_kib(server_pid)
    for client in group:
        client.measuring = True
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    for client in group:
        client.measuring = False
    elapsed = time.perf_counter() - started
    stop.set()
    await publisher
    for client in group:
        assert client.task is not None
        client.task.cancel()
    await asyncio.gather(*(c.task for c in group if c.task), return_exceptions=True)
    latencies = sorted(x for c in group for x in c.latencies)
    delivered = sum(c.received for c in group)
    return {
        "clients": clients,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "delivered_per_s": delivered / elapsed,
        "expected_per_s": clients * rate,
        # Resident memory grows in pages and arenas: per connection only means something at scale.
        "kib_per_connection": (rss - base_rss) / clients if clients >= 100 else float("nan"),
    }


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


async def _main(args: argparse.Namespace) -> None:
    _raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="nexus-bench-subscriptions-"))
    redis = RedisServer(work)
    redis.start()
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis.url,
        "NEXUS_REPLAY": "off",
        "NEXUS_DATA_DIR": str(args.data_dir),
        "NEXUS_LOG_LEVEL": "WARNING",
        # Every client here is anonymous from one address: the anonymous plan's cost budget
        # (1,000 units a minute) refuses the subscribes past it, so measure, do not enforce.
        "NEXUS_DEMAND_CONTROL": "measure",
    }
    for name in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL"):
        env.pop(name, None)
    log = (work / "server.log").open("w")
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measuring
        [sys.executable, "-m", "nexus.assembly.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_raise_file_limit,
    )
    bus = RedisBus(redis.url)
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"nexus serve did not start; see {work / 'server.log'}")
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
        print(
            f"nexus serve (pid {server.pid}) on Redis {redis.url}; {args.rate:g} events/s per "
            f"client, {args.seconds:g} s per row, {len(SYMBOLS)} symbols, {os.cpu_count()} CPUs"
        )
        print(
            f"{'clients':>8} {'p50 ms':>8} {'p99 ms':>8} {'delivered/s':>12} "
            f"{'expected/s':>11} {'KiB/conn':>9}"
        )
        for clients in args.clients:
            row = await _scenario(url, server.pid, bus, clients, args.rate, args.seconds, token)
            print(
                f"{row['clients']:>8} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
                f"{row['delivered_per_s']:>12.0f} {row['expected_per_s']:>11.0f} "
                f"{row['kib_per_connection']:>9.1f}",
                flush=True,
            )
            await asyncio.sleep(1.0)
        if row["clients"] >= 1000:
            verdict = "met" if row["p99_ms"] < 100 else "NOT met"
            print(f"target (1,000 clients at 10 events/s each, p99 < 100 ms): {verdict}")
    finally:
        await bus.close()
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
        redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 100, 1000])
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
