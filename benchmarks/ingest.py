"""Ingestion benchmark: rows per second end to end (fetch, stream, store, publish) from the fake
FRED server, against a direct bulk insert of the same rows; publish-to-subscriber latency.

    .venv/bin/python -m benchmarks.ingest [--series DGS10,DGS2,...] [--runs 3]
        [--redis redis://127.0.0.1:6379/0]

The fake servers run as their own process (`nexus ingest fake-servers --cache-responses`), as a
remote API would. A warm-up pass fetches every page once before the timed runs, and the fakes
answer the timed runs' requests (the same pages) with the bytes they built then: a real source
builds its pages on its own machine, not on the two cores this benchmark measures.
`--uncached-fakes` lets the fakes build every answer again in the timed runs (as before).
Each run ingests the series into a fresh database of one embedded chDB store:

- pipeline, embedded: in-process stream and bus;
- pipeline, Redis: Redis Streams (consumer group, acks) and the Redis bus (with --redis);
- direct bulk insert: the same vintage rows and current values, already parsed, inserted into
  a fresh database with one INSERT per table: the store's own speed, no fetching, no checks;
- fetch-only floor: the connector's own `fetch` (same HTTP client, rate bucket, pages, parsing
  into records) with a sink that discards the batches: no stream, no store, no publish. Any
  pipeline at least fetches and parses, so with the store working fully in parallel the best
  end-to-end time is max(fetch, bulk), and without overlap fetch + bulk: the table prints both
  bounds on the share of bulk a pipeline could reach on this machine;
- sink alone: the records that fetch returned, written by the macro sink (`MacroSink.write`)
  into a fresh database with nothing else running: in one write (the least store work any
  grouping of the pages can cost) and in one write per page (the most). A pipeline ends only
  once its last write has, and its writes run one after another on the store's thread.

Latency: a subscriber on `macro.*` receives each series' MacroObservation; the figure is the
time from the publisher's `published_at` (after the store wrote the batch) to receipt.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from nexus import heap
from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.fakes.fred import _dataset, _vintages
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Record, Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.sinks.macro import FOREVER, fred_date, fred_value
from nexus.assembly.ingest.source import Connector, SourceConfig
from nexus.assembly.ingest.stream import InProcessRecordStream, RedisRecordStream
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import Bus, InProcessBus, RedisBus
from subgraphs.macro.ddl import statements
from tests.support.processes import free_port

DEFAULT_SERIES = "DGS10,DGS2,DGS30,T10Y2Y,SP500,VIXCLS,DCOILWTICO,CPIAUCSL,UNRATE,GDP"


def start_fakes(
    *, cache_responses: bool = True, latency_ms: float = 0.0
) -> tuple[subprocess.Popen[bytes], str]:
    """The fake servers as their own process; with `cache_responses`, each answer is built once
    (on the warm-up pass) and its bytes replayed to the timed runs, as a remote API's own CPU
    is not the ingesting machine's; `latency_ms`: each request waits that long first (a
    remote API's round trip)."""
    port = free_port()
    command = [sys.executable, "-m", "nexus.assembly.cli", "ingest", "fake-servers"]
    command += ["--port", str(port), *(["--cache-responses"] if cache_responses else [])]
    command += ["--latency-ms", str(latency_ms)] if latency_ms else []
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the fake servers did not start")


async def pipeline_run(
    store: ChdbStore, fakes: str, series: list[str], redis_url: str | None
) -> tuple[int, float, list[float]]:
    tag = uuid.uuid4().hex[:8]
    bus: Bus = RedisBus(redis_url) if redis_url else InProcessBus()
    stream = (
        RedisRecordStream(redis_url, prefix=f"bench-{tag}:")
        if redis_url
        else InProcessRecordStream()
    )
    subscription = await bus.subscribe("macro.*")
    if isinstance(bus, RedisBus):
        await bus.wait_subscribed()
    latencies: list[float] = []

    async def listen() -> None:
        async for message in subscription:
            latencies.append(time.time() - float(message.event["published_at"]))

    listener = asyncio.create_task(listen())
    pipeline = Pipeline(
        analytics=store,
        bus=bus,
        stream=stream,
        dead=AnalyticsDeadLetters(store, f"bench_ingest_{tag}"),
        env={"NEXUS_INGEST_FAKE_URL": fakes, "FRED_API_KEY": "benchmark"},
        databases={"macro": f"bench_macro_{tag}"},
        state_database=f"bench_ingest_{tag}",
    )
    # Schemas first: the timed part is the ingestion itself.
    await pipeline.sink(connector("fred")).ensure_schema()
    await pipeline.dead.ensure_schema()  # and the cursors' tables
    started = time.perf_counter()
    report = await pipeline.run(connector("fred"), Window(only=tuple(series)))
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.2)  # the last events in flight
    listener.cancel()
    await stream.close()
    await bus.close()
    if report.error:
        raise RuntimeError(report.error)
    return report.rows, seconds, latencies


async def fetch_only(
    store: ChdbStore,
    connector: Connector,
    env: dict[str, str],
    window: Window,
    pages: list[list[Record]] | None = None,
) -> tuple[int, float, int]:
    """The connector's fetch and parse, as `Pipeline.run` drives it (same SourceHttp, rate,
    retry policy, headers, empty cursor), every batch discarded (or its records appended to
    `pages`): (records, seconds, requests). The lower bound of any pipeline's fetching on this
    machine."""
    pipeline = Pipeline(
        analytics=store, bus=InProcessBus(), stream=InProcessRecordStream(),
        dead=AnalyticsDeadLetters(store, "unused"), env=env,
    )  # fmt: skip
    source = connector.source(SourceConfig(pipeline.base_url(connector), env))
    http = pipeline.http(connector)
    records = 0
    started = time.perf_counter()
    try:
        async for batch in source.fetch(http, {}, window):
            records += len(batch.records)
            if pages is not None:
                pages.append(batch.records)
    finally:
        seconds = time.perf_counter() - started
        await http.close()
    return records, seconds, http.requests


async def sink_alone(store: ChdbStore, pages: list[list[Record]], one_write: bool) -> float:
    """Seconds the FRED connector's sink takes to write `pages` into a fresh database: all in
    one write, or a write per page."""
    sink = connector("fred").sink(store, f"bench_sink_{uuid.uuid4().hex[:8]}")
    await sink.ensure_schema()
    writes = [[record for page in pages for record in page]] if one_write else pages
    started = time.perf_counter()
    for records in writes:
        await sink.write(records)
    return time.perf_counter() - started


def best_schedule(fetch: float, one: float, many: float, pages: int) -> tuple[float, int]:
    """The earliest a pipeline could end, and in how many writes, with the sink's costs
    measured alone (`one`: all records in one write; `many`: a write per page) laid over the
    fetch: a write costs a fixed part, (many - one) / (pages - 1), plus its share of the rows'
    part; it starts once its pages are fetched (arriving evenly over `fetch` seconds, each an
    equal share of the rows) and the write before it has ended. Nothing is shared between
    fetching and storing (no CPU, no GIL), which flatters the pipeline. Every grouping of the
    pages, in order, into 1 to 6 writes."""
    fixed = max(0.0, (many - one) / (pages - 1)) if pages > 1 else 0.0
    rows = one - fixed
    best = (float("inf"), 0)
    cuts = [i / pages for i in range(1, pages)]
    for writes in range(1, min(6, pages) + 1):
        for inner in itertools.combinations(cuts, writes - 1):
            end = done = 0.0
            for upto in (*inner, 1.0):
                end = max(end, upto * fetch) + fixed + rows * (upto - done)
                done = upto
            best = min(best, (end, writes))
    return best


def bounds(bulk: float, fetch: float) -> str:
    """The best share of bulk's rate a pipeline could reach: sequential (fetch, then store) and
    with perfect overlap of fetching and storing."""
    return f"{bulk / (fetch + bulk):.0%} sequential, {bulk / max(fetch, bulk):.0%} overlapped"


async def bulk_insert(store: ChdbStore, series: list[str]) -> tuple[int, float]:
    database = f"bench_bulk_{uuid.uuid4().hex[:8]}"
    for statement in statements(database):
        await store.command(statement)
    info = _dataset()[0]
    vintages = [
        [s, dt.date.fromisoformat(r["date"]), fred_date(r["realtime_start"]),
         fred_date(r["realtime_end"]), fred_value(r["value"])]
        for s in series for r in _vintages(s)
    ]  # fmt: skip
    current = [[r[0], r[1], r[4]] for r in vintages if r[3] == FOREVER and r[4] is not None]
    started = time.perf_counter()  # the rows are ready: only the inserts are timed
    await store.insert(
        f"{database}.series",
        ["id", "title", "units", "frequency"],
        [[s, info[s]["title"], info[s]["units"], info[s]["frequency"]] for s in series],
    )
    await store.insert(
        f"{database}.observation_vintages",
        ["series_id", "date", "realtime_start", "realtime_end", "value"],
        vintages,
    )
    await store.insert(f"{database}.observations", ["series_id", "date", "value"], current)
    return len(vintages) + len(series), time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", default=DEFAULT_SERIES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default=None, help="also run on Redis Streams and bus")
    parser.add_argument(
        "--uncached-fakes", action="store_true", help="the fakes build every answer again"
    )
    args = parser.parse_args()
    series = [s for s in args.series.split(",") if s]
    fakes, url = start_fakes(cache_responses=not args.uncached_fakes)
    results: dict[str, list[tuple[int, float]]] = {}
    latencies: dict[str, list[float]] = {}
    floor: list[tuple[int, float, int]] = []  # fetch-only: records, seconds, requests
    alone: dict[bool, list[float]] = {True: [], False: []}  # sink alone, by one_write: seconds
    try:
        with tempfile.TemporaryDirectory() as directory:
            store = ChdbStore(Path(directory) / "chdb")
            await store.command("SELECT 1")
            await pipeline_run(store, url, series[:1], None)  # warm-up: imports, connections
            for name in series:
                _vintages(name)  # the fake's rows, built once (cached) outside every timing
            env = {"NEXUS_INGEST_FAKE_URL": url, "FRED_API_KEY": "benchmark"}
            # Warm-up: every page requested once (with --cache-responses, built once).
            await fetch_only(store, connector("fred"), env, Window(only=tuple(series)))
            # As `nexus ingest` does (NEXUS_GC_FREEZE=off: not), the startup heap frozen.
            heap.freeze_startup_heap()
            watch = asyncio.create_task(heap.watch_event_loop())
            kinds = [("pipeline, embedded", None)]
            if args.redis:
                kinds.append(("pipeline, Redis Streams + Redis bus", args.redis))
            for _ in range(args.runs):
                rows, seconds = await bulk_insert(store, series)
                results.setdefault("direct bulk insert", []).append((rows, seconds))
                for name, redis_url in kinds:
                    rows, seconds, lags = await pipeline_run(store, url, series, redis_url)
                    results.setdefault(name, []).append((rows, seconds))
                    latencies.setdefault(name, []).extend(lags)
                pages: list[list[Record]] = []
                records, seconds, requests = await fetch_only(
                    store, connector("fred"), env, Window(only=tuple(series)), pages
                )
                floor.append((records, seconds, requests))
                pages_fetched = len(pages)
                for one_write, times in alone.items():
                    times.append(await sink_alone(store, pages, one_write))
            watch.cancel()
            await store.close()
    finally:
        fakes.kill()
    load = os.getloadavg()[0]
    fakes_mode = "fakes build every answer" if args.uncached_fakes else "fakes' answers cached"
    print(
        f"\n{len(series)} FRED series, {args.runs} runs each, {fakes_mode}, "
        f"load average {load:.1f}\n"
    )
    print("| path | rows | median time | rows/s | publish-to-subscriber latency |")
    print("|---|---|---|---|---|")
    bulk = statistics.median(rows / s for rows, s in results["direct bulk insert"])
    for name, runs in results.items():
        rows = runs[0][0]
        median = statistics.median(s for _, s in runs)
        received = latencies.get(name)
        lag = (
            f"median {1000 * statistics.median(received):.1f} ms, "
            f"max {1000 * max(received):.1f} ms ({len(received)} events)"
            if received
            else "-"
        )
        rate = rows / median
        share = "" if name == "direct bulk insert" else f" ({rate / bulk:.0%} of bulk)"
        print(f"| {name} | {rows:,} | {median:.2f} s | {rate:,.0f}{share} | {lag} |")
    rows = results["direct bulk insert"][0][0]
    fetch = statistics.median(s for _, s, _ in floor)
    bulk_time = statistics.median(s for _, s in results["direct bulk insert"])
    print(
        f"| fetch-only floor ({floor[0][0]:,} records, {floor[0][2]} requests, nothing stored) "
        f"| {rows:,} | {fetch:.2f} s | {rows / fetch:,.0f} ({rows / fetch / bulk:.0%} of bulk) "
        f"| - |"
    )
    groupings = {True: "one write", False: f"a write per page ({pages_fetched})"}
    for one_write, times in alone.items():
        grouping = groupings[one_write]
        median = statistics.median(times)
        print(
            f"| sink alone, {grouping} (the fetched records; no fetch, stream, checkpoint "
            f"or publish) | {rows:,} | {median:.2f} s | {rows / median:,.0f} "
            f"({rows / median / bulk:.0%} of bulk) | - |"
        )
    print(f"\nBest possible pipeline vs bulk: {bounds(bulk_time, fetch)}.")
    one, many = (statistics.median(alone[one_write]) for one_write in (True, False))
    end, writes = best_schedule(fetch, one, many, pages_fetched)
    print(
        f"With this sink's costs (one write {one:.2f} s, {groupings[False]} {many:.2f} s) laid "
        f"over the fetch, pages arriving evenly and nothing shared: at best {writes} write(s), "
        f"ending at {end:.2f} s = {bulk_time / end:.0%} of bulk."
    )


if __name__ == "__main__":
    asyncio.run(main())
