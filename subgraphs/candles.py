"""Daily OHLCV candles: the value type and the batched reads shared by crypto and micro.

Each domain keeps its candles in its own database (`crypto.candles`, `micro.candles`) with the
same table shape, so the SQL and the GraphQL type are written once. `Candle` is @shareable: the
same value type is served by two subgraphs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import strawberry

from nexus.errors import BadUserInput
from nexus.stores.analytics import AnalyticsStore, Row

CANDLES_DDL = """
CREATE TABLE IF NOT EXISTS {database}.candles (
    symbol LowCardinality(String),
    date Date,
    open Float64,
    high Float64,
    low Float64,
    close Float64,
    volume Float64
) ENGINE = ReplacingMergeTree ORDER BY (symbol, date)
"""


@strawberry.federation.type(
    shareable=True, description="One day of trading: open, high, low, close and volume."
)
class Candle:
    date: dt.date = strawberry.field(description="The trading day (UTC for crypto).")
    open: float = strawberry.field(description="First trade price of the day, US dollars.")
    high: float = strawberry.field(description="Highest trade price of the day, US dollars.")
    low: float = strawberry.field(description="Lowest trade price of the day, US dollars.")
    close: float = strawberry.field(description="Last trade price of the day, US dollars.")
    volume: float = strawberry.field(
        description="Volume traded that day: shares for stocks, US dollars for tokens."
    )


@strawberry.federation.type(
    shareable=True, description="The last close on record and its change from the close before."
)
class LatestPrice:
    date: dt.date = strawberry.field(description="The trading day of the last close on record.")
    close: float = strawberry.field(description="The last close on record, US dollars.")
    previous_close: float | None = strawberry.field(
        description="The close of the trading day before, US dollars; null for the first day."
    )
    change_percent: float | None = strawberry.field(
        description="Percent change from the previous close."
    )


@dataclass(frozen=True, slots=True)
class CandleRange:
    """The key of one `candles(from, to)` request: one symbol over an inclusive date range."""

    symbol: str
    start: dt.date | None
    end: dt.date | None


# The period arguments of candle-based fields (Token's and Stock's risk, closeChart, bars).
From = Annotated[
    dt.date | None, strawberry.argument(name="from", description="First day, inclusive.")
]
To = Annotated[dt.date | None, strawberry.argument(description="Last day, inclusive.")]


def candle_range(symbol: str, start: dt.date | None, end: dt.date | None) -> CandleRange:
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    return CandleRange(symbol, start, end)


async def load_candles(
    store: AnalyticsStore, database: str, ranges: Sequence[CandleRange]
) -> list[list[Candle]]:
    """Candles for each range, in order. One query per distinct (from, to), whatever the symbols."""
    by_window: dict[tuple[dt.date | None, dt.date | None], set[str]] = defaultdict(set)
    for key in ranges:
        by_window[(key.start, key.end)].add(key.symbol)
    found: dict[CandleRange, list[Candle]] = defaultdict(list)
    for (start, end), symbols in by_window.items():
        rows = await store.query(
            f"SELECT symbol, date, open, high, low, close, volume FROM {database}.candles "
            "WHERE symbol IN {symbols:Array(String)} "
            "AND date >= {start:Date} AND date <= {end:Date} ORDER BY symbol, date",
            {
                "symbols": sorted(symbols),
                "start": start or dt.date(1970, 1, 1),
                "end": end or dt.date(2149, 6, 1),
            },
        )
        for row in rows:
            symbol = row.pop("symbol")
            found[CandleRange(symbol, start, end)].append(Candle(**row))
    return [found.get(key, []) for key in ranges]


async def load_latest_prices(
    store: AnalyticsStore, database: str, symbols: Sequence[str]
) -> list[LatestPrice | None]:
    """The latest close of each symbol and the one before it, in one query."""
    rows = await store.query(
        f"SELECT symbol, date, close FROM {database}.candles "
        "WHERE symbol IN {symbols:Array(String)} ORDER BY symbol, date DESC LIMIT 2 BY symbol",
        {"symbols": sorted(set(symbols))},
    )
    closes: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        closes[row["symbol"]].append(row)
    latest: dict[str, LatestPrice] = {}
    for symbol, (last, *before) in closes.items():
        previous = before[0]["close"] if before else None
        change = (last["close"] / previous - 1.0) * 100.0 if previous else None
        latest[symbol] = LatestPrice(
            date=last["date"], close=last["close"], previous_close=previous, change_percent=change
        )
    return [latest.get(symbol) for symbol in symbols]
