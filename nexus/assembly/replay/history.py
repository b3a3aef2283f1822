"""What the replay replays: every token's and stock's daily candles and posts per day.

Read once, at start, from the analytics store: `crypto.candles` of the symbols in
`crypto.tokens` and `micro.candles` of those in `micro.stocks` (a process whose store holds
only one of the two domains replays that one), and the mentions per symbol and day from
`micro.mentions`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nexus.stores.analytics import AnalyticsStore, Row

AssetClass = Literal["crypto", "stock"]

# (database, table of the instruments, asset class) of each domain with candles.
MARKETS: tuple[tuple[str, str, AssetClass], ...] = (
    ("crypto", "tokens", "crypto"),
    ("micro", "stocks", "stock"),
)


@dataclass(frozen=True, slots=True, eq=False)
class DailyHistory:
    """One symbol's daily candles in date order, as arrays (`days` are `date.toordinal()`)."""

    symbol: str
    asset_class: AssetClass
    days: np.ndarray  # int64 [n], ascending
    open: np.ndarray  # float64 [n]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def index(self, day: int) -> int | None:
        """The row of the candle of `day`, or None when the symbol did not trade that day."""
        row = int(np.searchsorted(self.days, day))
        return row if row < len(self.days) and self.days[row] == day else None

    def previous_close(self, row: int) -> float:
        """The close of the candle before `row` (its own open for the first one)."""
        return float(self.close[row - 1] if row else self.open[row])

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromordinal(int(self.days[0]))

    @property
    def last_day(self) -> dt.date:
        return dt.date.fromordinal(int(self.days[-1]))


async def _tables(store: AnalyticsStore) -> set[str]:
    rows = await store.query(
        "SELECT database, name FROM system.tables WHERE database IN ('crypto', 'micro')"
    )
    return {f"{row['database']}.{row['name']}" for row in rows}


async def load_histories(store: AnalyticsStore) -> list[DailyHistory]:
    """Every token's and stock's candles, by asset class then symbol."""
    tables = await _tables(store)
    histories: list[DailyHistory] = []
    for database, instruments, asset_class in MARKETS:
        if not {f"{database}.candles", f"{database}.{instruments}"} <= tables:
            continue
        rows = await store.query(
            f"SELECT symbol, date, open, high, low, close, volume FROM {database}.candles FINAL "
            f"WHERE symbol IN (SELECT symbol FROM {database}.{instruments} FINAL) "
            "AND open > 0 AND high > 0 AND low > 0 AND close > 0 ORDER BY symbol, date"
        )
        by_symbol: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            by_symbol[str(row["symbol"])].append(row)
        for symbol, candles in by_symbol.items():
            columns = {
                name: np.array([row[name] for row in candles], dtype=np.float64)
                for name in ("open", "high", "low", "close", "volume")
            }
            days = np.array([row["date"].toordinal() for row in candles], dtype=np.int64)
            histories.append(DailyHistory(symbol, asset_class, days, **columns))
    return histories


async def load_daily_mentions(store: AnalyticsStore) -> dict[str, dict[int, int]]:
    """Posts mentioning each symbol per day (`date.toordinal()`), from micro's store."""
    if "micro.mentions" not in await _tables(store):
        return {}
    rows = await store.query(
        "SELECT symbol, toDate(created_at) AS date, count() AS posts "
        "FROM micro.mentions FINAL GROUP BY symbol, date"
    )
    mentions: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        mentions[row["symbol"]][row["date"].toordinal()] = int(row["posts"])
    return dict(mentions)
