"""Every read of the crypto store, batched: one query per DataLoader batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexus.stores.analytics import AnalyticsStore, Row
from subgraphs.benchmarks import BenchmarkRange, BenchmarkSeries, load_benchmark_series
from subgraphs.candles import Candle, CandleRange, LatestPrice, load_candles, load_latest_prices
from subgraphs.crypto.ddl import DATABASE
from subgraphs.crypto.onchain_repository import OnchainRepository
from subgraphs.crypto.pool_record import PoolRecord


@dataclass(frozen=True, slots=True)
class TokenRecord:
    symbol: str
    name: str
    kind: str


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
    def __init__(self, store: AnalyticsStore, database: str = DATABASE) -> None:
        self.store = store
        self.database = database
        self.onchain = OnchainRepository(store, database)

    async def tokens_by_symbol(self, symbols: Sequence[str]) -> list[TokenRecord | None]:
        rows = await self.store.query(
            f"SELECT symbol, name, kind FROM {self.database}.tokens FINAL "
            "WHERE symbol IN {symbols:Array(String)}",
            {"symbols": sorted(set(symbols))},
        )
        found = {row["symbol"]: TokenRecord(**row) for row in rows}
        return [found.get(symbol) for symbol in symbols]

    async def all_tokens(self) -> list[TokenRecord]:
        rows = await self.store.query(
            f"SELECT symbol, name, kind FROM {self.database}.tokens FINAL ORDER BY symbol"
        )
        return [TokenRecord(**row) for row in rows]

    async def candles(self, ranges: Sequence[CandleRange]) -> list[list[Candle]]:
        return await load_candles(self.store, self.database, ranges)

    async def latest_prices(self, symbols: Sequence[str]) -> list[LatestPrice | None]:
        return await load_latest_prices(self.store, self.database, symbols)

    async def benchmark_series(
        self, keys: Sequence[BenchmarkRange]
    ) -> list[BenchmarkSeries | None]:
        return await load_benchmark_series(self.store, self.database, keys)

    async def pools_by_id(self, ids: Sequence[str]) -> list[PoolRecord | None]:
        rows = await self.store.query(
            f"SELECT {', '.join(POOL_COLUMNS)} FROM {self.database}.pools FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": sorted(set(ids))},
        )
        found = {row["id"]: _pool(row) for row in rows}
        missing = [id_ for id_ in ids if id_ not in found]
        if missing:  # pools read from the chain are keyed by their contract address
            found.update((pool.id, pool) for pool in await self.onchain.pools(missing))
        return [found.get(id_) for id_ in ids]

    async def all_pools(self) -> list[PoolRecord]:
        rows = await self.store.query(
            f"SELECT {', '.join(POOL_COLUMNS)} FROM {self.database}.pools FINAL ORDER BY id"
        )
        return [_pool(row) for row in rows] + await self.onchain.pools()
