"""Crypto ingestion benchmark: rows per second end to end (fetch, stream, store, publish) from
the fake Ethereum node and the fake Binance, against a direct bulk insert of the same rows;
publish-to-subscriber latency of whale alerts and of live ticks from the trade stream.

    .venv/bin/python -m benchmarks.ingest_crypto [--blocks 2000] [--runs 3]
        [--redis redis://127.0.0.1:6379/0] [--latency-ms 0] [--concurrency 1,4]

The fake servers run as their own process (`nexus ingest fake-servers --cache-responses`), as a
remote API would; a warm-up pass fetches every page once, and the timed runs get the bytes the
fakes built then (a real source's CPU is not ours; `--uncached-fakes`: built again each time).
`--latency-ms`: every request to the fakes waits that long first, as a remote API's round trip
does; `--concurrency 1,4` then runs the pipelines once per value of NEXUS_ETHEREUM_CONCURRENT_RANGES
and NEXUS_BINANCE_CONCURRENT_PAIRS (ranges and pairs read at once), side by side.
Each run ingests into a fresh database of one embedded chDB store:

- ethereum: `--blocks` blocks of the fake chain (ERC-20 transfers and Uniswap events), 500
  blocks per `eth_getLogs` (the default); binance: every daily kline of BTCUSDT and ETHUSDT
  from 2014 to 2022-11-16 (the day after the fake's last candle);
- pipeline, embedded: in-process stream and bus; pipeline, Redis: Redis Streams and the Redis
  bus (with --redis);
- direct bulk insert: the rows the pipeline stored, read back, inserted into a fresh database
  with one INSERT per table: the store's own speed, no fetching, no checks;
- fetch-only floor: the connector's own `fetch` and parse of the same pages, batches discarded
  (no stream, store or publish); the bounds a pipeline could reach are bulk / (fetch + bulk)
  without overlap and bulk / max(fetch, bulk) with fetching and storing fully in parallel.

Latency: the time from a sink's `published_at` (after the store wrote the batch) to receipt by
a bus subscriber: whale transfers on `onchain.*`, ticks of the trade stream on `market.*`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from benchmarks.ingest import bounds, fetch_only, start_fakes
from nexus import heap
from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.connectors.binance_fake import TRADES_START_MS
from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK
from nexus.assembly.ingest.connectors.ethereum_sink import POOL_EVENT_COLUMNS, TRANSFER_COLUMNS
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.stream import InProcessRecordStream, RedisRecordStream
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import Bus, InProcessBus, RedisBus
from subgraphs.crypto.ddl import statements

TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "ethereum": {"transfers": TRANSFER_COLUMNS, "pool_events": POOL_EVENT_COLUMNS},
    "binance": {"candles": ("symbol", "date", "open", "high", "low", "close", "volume")},
}


async def pipeline_run(
    store: ChdbStore, fakes: str, source: str, redis_url: str | None, concurrency: str = ""
) -> tuple[str, int, float, list[float]]:
    tag = uuid.uuid4().hex[:8]
    bus: Bus = RedisBus(redis_url) if redis_url else InProcessBus()
    stream = (
        RedisRecordStream(redis_url, prefix=f"bench-{tag}:")
        if redis_url
        else InProcessRecordStream()
    )
    subscription = await bus.subscribe("onchain.*", "market.*")
    if isinstance(bus, RedisBus):
        await bus.wait_subscribed()
    latencies: list[float] = []

    async def listen() -> None:
        async for message in subscription:
            latencies.append(time.time() - float(message.event["published_at"]))

    listener = asyncio.create_task(listen())
    database = f"bench_crypto_{tag}"
    pipeline = Pipeline(
        analytics=store,
        bus=bus,
        stream=stream,
        dead=AnalyticsDeadLetters(store, f"bench_ingest_{tag}"),
        env=_env(fakes, concurrency),
        databases={"crypto": database},
        state_database=f"bench_ingest_{tag}",
    )
    # Schemas first: the timed part is the ingestion itself.
    await pipeline.sink(connector(source)).ensure_schema()
    await pipeline.dead.ensure_schema()  # and the cursors' tables
    window = _window(source)
    started = time.perf_counter()
    report = await pipeline.run(connector(source), window)
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.2)  # the last events in flight
    listener.cancel()
    await stream.close()
    await bus.close()
    if report.error:
        raise RuntimeError(report.error)
    return database, report.rows, seconds, latencies


async def bulk_insert(store: ChdbStore, source: str, stored: str) -> tuple[int, float]:
    """The rows `stored` holds for `source`, inserted into a fresh database: one INSERT each."""
    database = f"bench_bulk_{uuid.uuid4().hex[:8]}"
    for statement in statements(database):
        await store.command(statement)
    tables = {
        table: [
            list(row.values())
            for row in await store.query(f"SELECT {', '.join(columns)} FROM {stored}.{table}")
        ]
        for table, columns in TABLES[source].items()
    }
    started = time.perf_counter()  # the rows are ready: only the inserts are timed
    for table, rows in tables.items():
        await store.insert(f"{database}.{table}", TABLES[source][table], rows)
    return sum(len(rows) for rows in tables.values()), time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=2000)
    parser.add_argument(
        "--blocks-per-request",
        type=int,
        default=500,
        help="eth_getLogs range (NEXUS_ETHEREUM_BLOCKS_PER_REQUEST; the fake node answers up to "
        "5,000 blocks and 10,000 logs)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default=None, help="also run on Redis Streams and bus")
    parser.add_argument(
        "--uncached-fakes", action="store_true", help="the fakes build every answer again"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="each request to the fakes waits this long"
    )
    parser.add_argument(
        "--concurrency",
        default="",
        help="comma-separated values of NEXUS_ETHEREUM_CONCURRENT_RANGES and "
        "NEXUS_BINANCE_CONCURRENT_PAIRS to run the pipelines with (default: the connectors' own)",
    )
    args = parser.parse_args()
    BLOCKS_PER_REQUEST["n"] = args.blocks_per_request
    fakes, url = start_fakes(cache_responses=not args.uncached_fakes, latency_ms=args.latency_ms)
    results: dict[tuple[str, str], list[tuple[int, float]]] = {}
    latencies: dict[tuple[str, str], list[float]] = {}
    floor: dict[str, list[tuple[int, float, int]]] = {}  # fetch-only: records, s, requests
    try:
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{url}/ethereum/_chain", json={"head": FIRST_BLOCK + args.blocks - 1}
            )
        with tempfile.TemporaryDirectory() as directory:
            store = ChdbStore(Path(directory) / "chdb")
            await pipeline_run(store, url, "binance-trades", None)  # warm-up
            for source in ("ethereum", "binance"):  # every page requested once before timing
                await fetch_only(store, connector(source), _env(url), _window(source))
            # As `nexus ingest` does (NEXUS_GC_FREEZE=off: not), the startup heap frozen.
            heap.freeze_startup_heap()
            watch = asyncio.create_task(heap.watch_event_loop())
            paths = [("pipeline, embedded", None)]
            if args.redis:
                paths.append(("pipeline, Redis Streams + Redis bus", args.redis))
            at_once = [value.strip() for value in args.concurrency.split(",") if value.strip()]
            kinds = [
                (f"{name}, {value} at once" if value else name, redis_url, value)
                for name, redis_url in paths
                for value in at_once or [""]
            ]
            for _ in range(args.runs):
                for source in ("ethereum", "binance"):
                    stored = ""
                    for name, redis_url, concurrency in kinds:
                        stored, rows, seconds, lags = await pipeline_run(
                            store, url, source, redis_url, concurrency
                        )
                        results.setdefault((source, name), []).append((rows, seconds))
                        latencies.setdefault((source, name), []).extend(lags)
                    rows, seconds = await bulk_insert(store, source, stored)
                    results.setdefault((source, "direct bulk insert"), []).append((rows, seconds))
                    records, seconds, requests = await fetch_only(
                        store, connector(source), _env(url), _window(source)
                    )
                    floor.setdefault(source, []).append((records, seconds, requests))
                for name, redis_url, _ in kinds:
                    *_, lags = await pipeline_run(store, url, "binance-trades", redis_url)
                    latencies.setdefault(("binance-trades", name), []).extend(lags)
            watch.cancel()
            await store.close()
    finally:
        fakes.kill()
    load = os.getloadavg()[0]
    fakes_mode = "fakes build every answer" if args.uncached_fakes else "fakes' answers cached"
    if args.latency_ms:
        fakes_mode += f", {args.latency_ms:g} ms a request"
    print(
        f"\n{args.blocks} blocks ({args.blocks_per_request} a request), BTC+ETH klines since "
        f"2014, {args.runs} runs each, "
        f"{fakes_mode}, load average {load:.1f}\n"
    )
    print("| source | path | rows | median time | rows/s | publish-to-subscriber latency |")
    print("|---|---|---|---|---|---|")
    for (source, name), runs in sorted(results.items()):
        bulk = statistics.median(r / s for r, s in results[(source, "direct bulk insert")])
        rows = runs[0][0]
        median = statistics.median(s for _, s in runs)
        rate = rows / median
        share = "" if name == "direct bulk insert" else f" ({rate / bulk:.0%} of bulk)"
        print(
            f"| {source} | {name} | {rows:,} | {median:.3f} s | {rate:,.0f}{share} | "
            f"{_lag(latencies.get((source, name)))} |"
        )
    for source, fetched in sorted(floor.items()):
        bulk_runs = results[(source, "direct bulk insert")]
        rows = bulk_runs[0][0]
        fetch = statistics.median(s for _, s, _ in fetched)
        rate = rows / fetch
        bulk = statistics.median(r / s for r, s in bulk_runs)
        print(
            f"| {source} | fetch-only floor ({fetched[0][0]:,} records, {fetched[0][2]} requests, "
            f"nothing stored) | {rows:,} | {fetch:.3f} s | {rate:,.0f} ({rate / bulk:.0%} of "
            f"bulk) | - |"
        )
    for (source, name), lags in latencies.items():
        if source == "binance-trades":
            print(f"| {source} | {name} | (ticks) | - | - | {_lag(lags)} |")
    print()
    for source, fetched in sorted(floor.items()):
        fetch = statistics.median(s for _, s, _ in fetched)
        bulk_time = statistics.median(s for _, s in results[(source, "direct bulk insert")])
        print(f"{source}: best possible pipeline vs bulk: {bounds(bulk_time, fetch)}.")


def _window(source: str) -> Window:
    if source != "binance":
        return Window()
    # Until the day after the fake's last candle, not now: the same requests every run (the
    # fakes' cache replays them), the same candles.
    until = dt.datetime.fromtimestamp(TRADES_START_MS / 1000, dt.UTC)
    return Window(since=dt.datetime(2014, 1, 1, tzinfo=dt.UTC), until=until)


BLOCKS_PER_REQUEST = {"n": 500}  # --blocks-per-request


def _env(fakes: str, concurrency: str = "") -> dict[str, str]:
    names = ("NEXUS_ETHEREUM_CONCURRENT_RANGES", "NEXUS_BINANCE_CONCURRENT_PAIRS")
    at_once = dict.fromkeys(names, concurrency) if concurrency else {}
    return {
        **at_once,
        "NEXUS_ETHEREUM_BLOCKS_PER_REQUEST": str(BLOCKS_PER_REQUEST["n"]),
        "NEXUS_INGEST_FAKE_URL": fakes,
        "NEXUS_ETHEREUM_START_BLOCK": str(FIRST_BLOCK),
        "NEXUS_BINANCE_STREAM_SECONDS": "2",
    }


def _lag(received: list[float] | None) -> str:
    if not received:
        return "-"
    return (
        f"median {1000 * statistics.median(received):.1f} ms, "
        f"max {1000 * max(received):.1f} ms ({len(received)} events)"
    )


if __name__ == "__main__":
    asyncio.run(main())
