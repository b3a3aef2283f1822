"""Every read of the crypto store, batched: one query per DataLoader batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexus.stores.analytics import AnalyticsStore
from subgraphs.candles import Candle, CandleRange, LatestPrice, load_candles, load_latest_prices
from subgraphs.crypto.ddl import DATABASE


@dataclass(frozen=True, slots=True)
class TokenRecord:
    symbol: str
    name: str
    kind: str


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
