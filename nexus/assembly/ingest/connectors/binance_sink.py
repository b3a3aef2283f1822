"""Binance records into the crypto store: daily candles, and trades that become live ticks.

Only candles and trades not stored yet (or changed) are inserted, so reads without FINAL see
no duplicates and a re-run writes nothing. After a batch of trades, each symbol's last trade
goes out as a MarketTick on `market.{SYMBOL}` (retained) with the day's open, high, low and
volume so far read back from the stored trades, and the previous day's close from the candles:
the same event the replay publishes, so `marketUpdates` and `priceAlerts` carry live trades.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from typing import Any

from nexus.assembly.ingest.connectors.binance_source import KLINE_KIND, TRADE_KIND
from nexus.assembly.ingest.records import DomainEvent, Record, Written
from nexus.assembly.ingest.schema import ensure
from nexus.assembly.ingest.sinks.store_side import (
    ONE_BLOCK,
    SQL_ISO_DAY,
    arrow_batch,
    first_line,
    iso_day,
)
from nexus.errors import StoreUnavailable
from nexus.events import MarketTick, encode, market_channel
from nexus.stores.analytics import BATCH, AnalyticsStore
from subgraphs.crypto.ddl import statements

CANDLE_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")
# A kline payload's fields as the store-side write reads them (`arrow_batch`).
KLINE_FIELDS = {
    "symbol": "string", "date": "string", **dict.fromkeys(CANDLE_COLUMNS[2:], "float64"),
}
log = logging.getLogger("nexus.ingest.binance")
TRADE_COLUMNS = ("symbol", "trade_id", "at", "price", "quantity", "buyer_maker")


def _candle(payload: dict[str, Any]) -> tuple[Any, ...]:
    figures = [float(payload[name]) for name in CANDLE_COLUMNS[2:]]
    if not all(map(math.isfinite, figures)):  # as the store-side write's check
        raise ValueError("a price or volume is not a finite number")
    return (str(payload["symbol"]), dt.date.fromisoformat(iso_day(payload["date"])), *figures)


def _trade(payload: dict[str, Any]) -> tuple[Any, ...]:
    at_ms = int(payload["at_ms"])
    at = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC)
    return (
        str(payload["symbol"]), int(payload["trade_id"]), at, float(payload["price"]),
        float(payload["quantity"]), bool(payload["buyer_maker"]),
    )


class BinanceSink:
    kinds = frozenset({KLINE_KIND, TRADE_KIND})

    def __init__(self, store: AnalyticsStore, database: str) -> None:
        self.store = store
        self.database = database

    async def ensure_schema(self) -> None:
        await ensure(self.store, statements(self.database))

    async def write(self, records: list[Record]) -> Written:
        if self.store.reads_batches and all(r.kind == KLINE_KIND for r in records):
            stored = await self._candles_in_store([r.payload for r in records])
            if stored is not None:
                return Written(events=[], rejected=[], rows=stored)
        rejected: list[tuple[Record, str]] = []
        candles: list[tuple[Any, ...]] = []
        trades: list[tuple[Any, ...]] = []
        for record in records:
            try:
                if record.kind == KLINE_KIND:
                    candles.append(_candle(record.payload))
                elif record.kind == TRADE_KIND:
                    trades.append(_trade(record.payload))
                else:
                    rejected.append((record, f"unknown kind {record.kind!r}"))
            except (KeyError, TypeError, ValueError) as error:
                rejected.append((record, f"malformed {record.kind}: {error!r}"[:200]))
        new_candles = await self._new_candles(candles)
        new_trades = await self._new_trades(trades)
        await self.store.insert(f"{self.database}.candles", CANDLE_COLUMNS, new_candles)
        await self.store.insert(f"{self.database}.trades", TRADE_COLUMNS,
                                [_millisecond_text(row) for row in new_trades])
        events = await self._ticks(new_trades)
        return Written(events=events, rejected=rejected, rows=len(new_candles) + len(new_trades))

    async def _candles_in_store(self, payloads: list[dict[str, Any]]) -> int | None:
        """A backfill's candles checked, deduplicated (the last of a day wins) and written by
        the store itself, from one Arrow table: how many were new or changed. None, with
        nothing written, where a payload fails the checks (not a kline's seven fields, a day
        not YYYY-MM-DD, a price or volume not a finite number): the caller then writes the
        batch record by record, refusing just the bad records."""
        if not payloads:
            return None
        batch = await arrow_batch(payloads, KLINE_FIELDS, "symbol")
        if isinstance(batch, str):
            log.info("candles checked record by record", extra={"reason": batch})
            return None
        symbols, table = batch
        figures = ", ".join(CANDLE_COLUMNS[2:])
        finite = " AND ".join(f"isFinite(ifNull({name}, nan))" for name in CANDLE_COLUMNS[2:])
        columns = ", ".join(CANDLE_COLUMNS)
        try:
            return await self.store.insert_batch(
                f"""INSERT INTO {self.database}.candles ({columns})
                SELECT symbol, toDate(date), {figures} FROM (
                    SELECT {columns}, rowNumberInAllBlocks() AS n FROM {BATCH}
                    WHERE throwIf(NOT (match(date, {SQL_ISO_DAY}) AND {finite}), 'not a kline') = 0
                    ORDER BY n DESC
                    LIMIT 1 BY symbol, date
                )
                WHERE (symbol, toDate(date), {figures}) NOT IN (
                    SELECT {columns} FROM {self.database}.candles FINAL
                    WHERE symbol IN {{symbols:Array(String)}})
                SETTINGS {ONE_BLOCK}""",
                table,
                {"symbols": symbols},
            )
        except StoreUnavailable:
            raise
        except Exception as error:  # a payload the checks refused: record by record
            log.info("candles checked record by record", extra={"reason": first_line(error)})
            return None

    async def _new_candles(self, candles: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not candles:
            return []
        stored = await self.store.query(
            f"SELECT {', '.join(CANDLE_COLUMNS)} FROM {self.database}.candles FINAL "
            "WHERE symbol IN {symbols:Array(String)} AND date BETWEEN {first:Date} AND {last:Date}",
            {"symbols": sorted({c[0] for c in candles}), "first": min(c[1] for c in candles),
             "last": max(c[1] for c in candles)},
        )
        known = {tuple(row[name] for name in CANDLE_COLUMNS) for row in stored}
        last_of_day = {candle[:2]: candle for candle in candles}  # a day twice: the last wins
        return [c for c in last_of_day.values() if c not in known]

    async def _new_trades(self, trades: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not trades:
            return []
        stored = await self.store.query(
            f"SELECT symbol, trade_id FROM {self.database}.trades "
            "WHERE symbol IN {symbols:Array(String)} "
            "AND trade_id BETWEEN {first:UInt64} AND {last:UInt64}",
            {"symbols": sorted({t[0] for t in trades}), "first": min(t[1] for t in trades),
             "last": max(t[1] for t in trades)},
        )
        known = {(row["symbol"], row["trade_id"]) for row in stored}
        fresh: dict[tuple[str, int], tuple[Any, ...]] = {}
        for row in trades:
            if (row[0], row[1]) not in known:
                fresh[(row[0], row[1])] = row
        return list(fresh.values())

    async def _ticks(self, trades: list[tuple[Any, ...]]) -> list[DomainEvent]:
        """A MarketTick per symbol: its latest new trade, with the day's figures so far."""
        latest: dict[str, tuple[Any, ...]] = {}
        for row in trades:
            if row[0] not in latest or (row[2], row[1]) > (latest[row[0]][2], latest[row[0]][1]):
                latest[row[0]] = row
        events = []
        for symbol, (_, _, at, price, _, _) in latest.items():
            day = at.date()
            rows = await self.store.query(
                "SELECT argMin(price, (at, trade_id)) AS day_open, max(price) AS day_high, "
                "min(price) AS day_low, sum(quantity) AS day_volume, "
                f"(SELECT close FROM {self.database}.candles WHERE symbol = {{symbol:String}} "
                "AND date < {day:Date} ORDER BY date DESC LIMIT 1) AS previous_close "
                f"FROM {self.database}.trades FINAL WHERE symbol = {{symbol:String}} "
                "AND toDate(at) = {day:Date} AND at <= {at:DateTime64(3)}",
                {"symbol": symbol, "day": day, "at": at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]},
            )
            figures: dict[str, Any] = rows[0] if rows else {}
            day_open = figures.get("day_open") or price
            tick = MarketTick(
                symbol=symbol, asset_class="crypto", price=price, open=day_open,
                high=max(figures.get("day_high") or price, price),
                low=min(figures.get("day_low") or price, price),
                previous_close=figures.get("previous_close") or day_open,
                volume=float(figures.get("day_volume") or 0.0), at=at, published_at=time.time(),
            )
            events.append(DomainEvent(market_channel(symbol), encode(tick), retain=True))
        return events


def _millisecond_text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # The store's text format drops fractions of a second: trades keep their milliseconds.
    symbol, trade_id, at, *rest = row
    return (symbol, trade_id, at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23], *rest)
