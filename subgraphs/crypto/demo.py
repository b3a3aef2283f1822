"""Load the crypto part of the demo dataset (BTC, ETH, USDT daily candles). Idempotent."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from nexus.demo import DEMO_DATA
from nexus.stores.analytics import AnalyticsStore
from subgraphs.benchmarks import load_benchmark_demo
from subgraphs.crypto.ddl import DATABASE, STATEMENTS
from subgraphs.crypto.pools_demo import load_pools

TOKENS = [("BTC", "Bitcoin", "coin"), ("ETH", "Ether", "coin"), ("USDT", "Tether", "stablecoin")]


async def ensure_schema(store: AnalyticsStore) -> None:
    for statement in STATEMENTS:
        await store.command(statement)


async def load_demo(store: AnalyticsStore, data_dir: Path = DEMO_DATA) -> dict[str, int]:
    await ensure_schema(store)
    with gzip.open(data_dir / "crypto_candles.csv.gz", "rt", newline="") as file:
        reader = csv.reader(file)
        columns = next(reader)
        candles = [[row[0], row[1], *map(float, row[2:])] for row in reader]
    await store.insert(f"{DATABASE}.tokens", ["symbol", "name", "kind"], TOKENS)
    await store.insert(f"{DATABASE}.candles", columns, candles)
    # ReplacingMergeTree collapses rows loaded twice once parts merge; merge now.
    for table in ("tokens", "candles"):
        await store.command(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")
    benchmarks = await load_benchmark_demo(store, DATABASE, data_dir)
    pools = await load_pools(store)
    return {
        "crypto.tokens": len(TOKENS),
        "crypto.candles": len(candles),
        "crypto.benchmarks": benchmarks,
        "crypto.pools": pools,
    }
