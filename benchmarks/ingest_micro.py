"""Micro ingestion benchmark: rows per second from the fake SEC EDGAR and X servers into the
embedded stores, end to end (fetch, stream, store, embed and score posts, publish), against a
direct bulk insert of the same rows; publish-to-subscriber latency of `social.posts`.

    .venv/bin/python -m benchmarks.ingest_micro [--runs 3]

The fake servers run as their own process (`nexus ingest fake-servers`). Each run ingests into
fresh databases of one embedded chDB store and one Milvus Lite file:

- sec: every ticker's filings and XBRL facts (no text); EDGAR's ten requests a second bound it
  (the connector's token bucket: the fake itself serves as fast as asked). To show that the
  limit, not the code, is the bound, the same run is repeated with the bucket lifted to 1,000
  requests a second -- in this benchmark only: `connector("sec")` keeps 10 a second;
- x: the fake's 7 recent-search posts; their texts are in the model's cache after the warm-up
  run, so this is fetch, store, vectors and publish without the encoder (its speed:
  benchmarks/text.py);
- direct bulk insert: the same rows, already parsed (posts already scored), one INSERT per
  table: the store's own speed;
- sec: fetch-only floor: the connector's own `fetch` and parse of the same pages (bucket
  lifted), batches discarded: no stream, store or publish (bounds as in benchmarks/ingest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.ingest import bounds, fetch_only, start_fakes
from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.http import Rate
from nexus.assembly.ingest.micro import fixtures
from nexus.assembly.ingest.micro.sec import (
    parse_company_facts,
    parse_submissions,
    parse_submissions_page,
)
from nexus.assembly.ingest.micro.sink import _fact, _filing
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.source import Connector
from nexus.assembly.ingest.stream import InProcessRecordStream
from nexus.events import SOCIAL_CHANNEL
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from nexus.stores.vectors import VectorStore
from subgraphs.micro.filings import FACT_COLUMNS, FILING_COLUMNS
from subgraphs.micro.writer import MicroWriter, _fact_row

ENV = {
    "NEXUS_SEC_USER_AGENT": "Nexus-Alpha benchmark ops@example.com",
    "NEXUS_X_BEARER_TOKEN": "benchmark-token",
}


async def pipeline_run(
    store: ChdbStore, vectors: VectorStore, fakes: str, source: str | Connector
) -> tuple[int, float, list[float], int]:
    chosen = connector(source) if isinstance(source, str) else source
    tag = uuid.uuid4().hex[:8]
    bus = InProcessBus()
    subscription = await bus.subscribe(SOCIAL_CHANNEL)
    latencies: list[float] = []

    async def listen() -> None:
        async for message in subscription:
            latencies.append(time.time() - float(message.event["published_at"]))

    listener = asyncio.create_task(listen())
    pipeline = Pipeline(
        analytics=store,
        bus=bus,
        stream=InProcessRecordStream(),
        dead=AnalyticsDeadLetters(store, f"bench_state_{tag}"),
        env={"NEXUS_INGEST_FAKE_URL": fakes, **ENV},
        vectors=vectors,
        databases={"micro": f"bench_micro_{tag}"},
        state_database=f"bench_state_{tag}",
    )
    await pipeline.sink(chosen).ensure_schema()  # schema outside the timing
    await pipeline.dead.ensure_schema()  # and the cursors' tables
    started = time.perf_counter()
    report = await pipeline.run(chosen)
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.2)
    listener.cancel()
    if report.error:
        raise RuntimeError(report.error)
    return report.rows, seconds, latencies, report.requests


async def bulk_sec(store: ChdbStore, vectors: VectorStore) -> tuple[int, float]:
    writer = MicroWriter(store, vectors, f"bench_bulk_{uuid.uuid4().hex[:8]}")
    await writer.ensure_schema()
    filings, facts = [], []
    for symbol in fixtures.COMPANIES:
        _, recent, _ = parse_submissions(fixtures.submissions(symbol), symbol)
        cik = fixtures.COMPANIES[symbol][0]
        older = (
            parse_submissions_page(fixtures.older_submissions(symbol), symbol, cik)
            if (symbol in fixtures.PAGED)
            else []
        )
        filings += [_filing(row) for row in recent + older]
        if symbol not in fixtures.FOREIGN:
            facts += [
                _fact(row) for row in parse_company_facts(fixtures.company_facts(symbol), symbol)
            ]
    started = time.perf_counter()
    await store.insert(
        f"{writer.database}.filings",
        FILING_COLUMNS,
        [[getattr(f, c) for c in FILING_COLUMNS] for f in filings],
    )
    await store.insert(f"{writer.database}.facts", FACT_COLUMNS, [_fact_row(f) for f in facts])
    return len(filings) + len(facts), time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    fakes, url = start_fakes()
    results: dict[str, list[tuple[int, float]]] = {}
    requests: dict[str, int] = {}
    latencies: list[float] = []
    fetched: list[tuple[int, float]] = []  # fetch-only: records, seconds
    unlimited = dataclasses.replace(connector("sec"), rate=Rate(1000, 1))  # benchmark only
    try:
        with tempfile.TemporaryDirectory() as directory:
            store = ChdbStore(Path(directory) / "chdb")
            vectors = VectorStore(Path(directory) / "vectors.db")
            await pipeline_run(store, vectors, url, "x")  # warm-up: model compile, imports
            for _ in range(args.runs):
                results.setdefault("sec: direct bulk insert", []).append(
                    await bulk_sec(store, vectors)
                )
                for name, sec in (
                    ("sec: pipeline, embedded (10 requests/s)", "sec"),
                    ("sec: pipeline, embedded, limit lifted", unlimited),
                ):
                    rows, seconds, _, sent = await pipeline_run(store, vectors, url, sec)
                    results.setdefault(name, []).append((rows, seconds))
                    requests[name] = sent
                rows, seconds, lags, sent = await pipeline_run(store, vectors, url, "x")
                requests["x: pipeline, embedded (texts cached)"] = sent
                results.setdefault("x: pipeline, embedded (texts cached)", []).append(
                    (rows, seconds)
                )
                latencies += lags
                records, seconds, sent = await fetch_only(
                    store, unlimited, {"NEXUS_INGEST_FAKE_URL": url, **ENV}, Window()
                )
                fetched.append((records, seconds))
                requests["sec: fetch-only floor, limit lifted (nothing stored)"] = sent
            await vectors.close()
            await store.close()
    finally:
        fakes.kill()
    print(f"\n{args.runs} runs each, load average {os.getloadavg()[0]:.1f}\n")
    print("| path | rows | requests | median time | rows/s |")
    print("|---|---|---|---|---|")
    bulk = statistics.median(r / s for r, s in results["sec: direct bulk insert"])
    for name, runs in results.items():
        median = statistics.median(s for _, s in runs)
        rate = runs[0][0] / median
        share = f" ({rate / bulk:.0%} of bulk)" if name.startswith("sec: pipeline") else ""
        asked = requests.get(name)
        floor = f" ({asked / 10:.1f} s at 10/s)" if asked and name.startswith("sec: pipe") else ""
        print(
            f"| {name} | {runs[0][0]:,} | {'-' if asked is None else asked}{floor} | "
            f"{median:.2f} s | {rate:,.0f}{share} |"
        )
    rows = results["sec: direct bulk insert"][0][0]
    fetch = statistics.median(s for _, s in fetched)
    print(
        f"| sec: fetch-only floor, limit lifted ({fetched[0][0]:,} records, nothing stored) | "
        f"{rows:,} | {requests['sec: fetch-only floor, limit lifted (nothing stored)']} | "
        f"{fetch:.2f} s | {rows / fetch:,.0f} ({rows / fetch / bulk:.0%} of bulk) |"
    )
    bulk_time = statistics.median(s for _, s in results["sec: direct bulk insert"])
    print(f"\nsec, limit lifted: best possible pipeline vs bulk: {bounds(bulk_time, fetch)}.")
    if latencies:
        print(
            f"\nsocial.posts publish-to-subscriber latency: median "
            f"{1000 * statistics.median(latencies):.1f} ms, max {1000 * max(latencies):.1f} ms "
            f"({len(latencies)} events)"
        )


if __name__ == "__main__":
    asyncio.run(main())
