"""Every read of the crypto store, batched: one query per DataLoader batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from nexus.stores.analytics import AnalyticsStore, Row
from subgraphs.benchmarks import BenchmarkRange, BenchmarkSeries, load_benchmark_series
from subgraphs.candles import Candle, CandleRange, LatestPrice, load_candles, load_latest_prices
from subgraphs.crypto.ddl import DATABASE


@dataclass(frozen=True, slots=True)
class TokenRecord:
    symbol: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """A liquidity pool: v2 reserves, or a v3 price and its liquidity ranges (ticks)."""

    id: str
    protocol: str
    token0: str
    token1: str
    fee: float
    synthetic: bool
    seeded_on: dt.date
    reserve0: float
    reserve1: float
    sqrt_price: float
    range_lower: tuple[int, ...]
    range_upper: tuple[int, ...]
    range_liquidity: tuple[float, ...]


POOL_COLUMNS = (
    "id", "protocol", "token0", "token1", "fee", "synthetic", "seeded_on", "reserve0",
    "reserve1", "sqrt_price", "range_lower", "range_upper", "range_liquidity",
)


def _pool(row: Row) -> PoolRecord:
    return PoolRecord(
        **{
            **row,
            "range_lower": tuple(row["range_lower"]),
            "range_upper": tuple(row["range_upper"]),
            "range_liquidity": tuple(row["range_liquidity"]),
        }
    )


class CryptoRepository:
    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    async def tokens_by_symbol(self, symbols: Sequence[str]) -> list[TokenRecord | None]:
        rows = await self.store.query(
            f"SELECT symbol, name, kind FROM {DATABASE}.tokens FINAL "
            "WHERE symbol IN {symbols:Array(String)}",
            {"symbols": sorted(set(symbols))},
        )
        found = {row["symbol"]: TokenRecord(**row) for row in rows}
        return [found.get(symbol) for symbol in symbols]

    async def all_tokens(self) -> list[TokenRecord]:
        rows = await self.store.query(
            f"SELECT symbol, name, kind FROM {DATABASE}.tokens FINAL ORDER BY symbol"
        )
        return [TokenRecord(**row) for row in rows]

    async def candles(self, ranges: Sequence[CandleRange]) -> list[list[Candle]]:
        return await load_candles(self.store, DATABASE, ranges)

    async def latest_prices(self, symbols: Sequence[str]) -> list[LatestPrice | None]:
        return await load_latest_prices(self.store, DATABASE, symbols)

    async def benchmark_series(
        self, keys: Sequence[BenchmarkRange]
    ) -> list[BenchmarkSeries | None]:
        return await load_benchmark_series(self.store, DATABASE, keys)

    async def pools_by_id(self, ids: Sequence[str]) -> list[PoolRecord | None]:
        rows = await self.store.query(
            f"SELECT {', '.join(POOL_COLUMNS)} FROM {DATABASE}.pools FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": sorted(set(ids))},
        )
        found = {row["id"]: _pool(row) for row in rows}
        return [found.get(id_) for id_ in ids]

    async def all_pools(self) -> list[PoolRecord]:
        rows = await self.store.query(
            f"SELECT {', '.join(POOL_COLUMNS)} FROM {DATABASE}.pools FINAL ORDER BY id"
        )
        return [_pool(row) for row in rows]
