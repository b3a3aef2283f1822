"""Benchmark index closes that CAPM regressions are measured against.

An index is market data of the domain that prices against it, so each subgraph keeps its own
copy in its own store (`crypto.benchmarks`, `micro.benchmarks`), loaded from the demo dataset:
the NASDAQ Composite daily closes (real, Yahoo Finance history). The S&P 500 (FRED SP500) is
macro's and is not copied here: no subgraph reads another's store. A benchmark may also be
any symbol with candles in the same store (BTC for tokens, GME for stocks).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nexus.demo import DEMO_DATA
from nexus.stores.analytics import AnalyticsStore

INDICES = {"NASDAQ": "NASDAQ Composite"}
DEMO_FILE = "benchmark_closes.csv.gz"

BENCHMARKS_DDL = """
CREATE TABLE IF NOT EXISTS {database}.benchmarks (
    symbol LowCardinality(String),
    date Date,
    close Float64
) ENGINE = ReplacingMergeTree ORDER BY (symbol, date)
"""


@dataclass(frozen=True, slots=True)
class BenchmarkRange:
    symbol: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class BenchmarkSeries:
    dates: list[dt.date]
    closes: list[float]


async def load_benchmark_demo(
    store: AnalyticsStore, database: str, data_dir: Path = DEMO_DATA
) -> int:
    """Create `{database}.benchmarks` and load the demo index closes (idempotent)."""
    await store.command(BENCHMARKS_DDL.format(database=database))
    with gzip.open(data_dir / DEMO_FILE, "rt", newline="") as file:
        reader = csv.reader(file)
        columns = next(reader)
        rows = [[symbol, day, float(close)] for symbol, day, close in reader]
    await store.insert(f"{database}.benchmarks", columns, rows)
    await store.command(f"OPTIMIZE TABLE {database}.benchmarks FINAL")
    return len(rows)


async def load_benchmark_series(
    store: AnalyticsStore, database: str, keys: Sequence[BenchmarkRange]
) -> list[BenchmarkSeries | None]:
    """Each key's closes, oldest first: an index, else a symbol's candles; None if neither.

    One query per distinct period whatever the symbols.
    """
    by_window: dict[tuple[dt.date | None, dt.date | None], set[str]] = defaultdict(set)
    for key in keys:
        by_window[(key.start, key.end)].add(key.symbol)
    found: dict[BenchmarkRange, BenchmarkSeries] = {}
    for (start, end), symbols in by_window.items():
        rows = await store.query(
            "SELECT symbol, date, close FROM ("
            f"SELECT symbol, date, close FROM {database}.benchmarks FINAL "
            "WHERE symbol IN {symbols:Array(String)} UNION ALL "
            f"SELECT symbol, date, close FROM {database}.candles FINAL "
            "WHERE symbol IN {symbols:Array(String)} AND symbol NOT IN "
            f"(SELECT DISTINCT symbol FROM {database}.benchmarks)) "
            "WHERE date >= {start:Date} AND date <= {end:Date} ORDER BY symbol, date",
            {
                "symbols": sorted(symbols),
                "start": start or dt.date(1970, 1, 1),
                "end": end or dt.date(2149, 6, 1),
            },
        )
        for row in rows:
            series = found.setdefault(
                BenchmarkRange(row["symbol"], start, end), BenchmarkSeries([], [])
            )
            series.dates.append(row["date"])
            series.closes.append(row["close"])
    return [found.get(key) for key in keys]
