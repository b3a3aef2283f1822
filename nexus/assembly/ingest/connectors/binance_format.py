"""Binance spot's published formats: REST klines (`GET /api/v3/klines`) and the `<symbol>@trade`
WebSocket stream, parsed and checked.

A kline is a JSON array: [open time (ms), open, high, low, close, volume (base asset),
close time (ms), quote asset volume, number of trades, taker buy base volume, taker buy quote
volume, ignore]; prices and volumes are decimal strings. A trade event is
`{"e": "trade", "E": event time, "s": "BTCUSDT", "t": trade id, "p": price, "q": quantity,
"T": trade time (ms), "m": buyer is the maker, ...}`, wrapped in `{"stream": ..., "data": ...}`
on the combined-stream endpoint.

Pairs quoted in USDT are stored under their base asset (BTCUSDT -> BTC): USDT stands in for the
US dollar, and a candle's volume is its quote volume (USDT ~ US dollars), as the demo's are.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from dataclasses import dataclass
from typing import Any

DAY_MS = 86_400_000
EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
LAST_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z: the dates `date` can name end before
QUOTE = "USDT"
WEIGHT_HEADER = "x-mbx-used-weight-1m"


class FormatError(ValueError):
    """A kline or trade that does not have Binance's shape."""


def token_of(pair: str) -> str:
    """The stored symbol of a pair: its base asset when quoted in USDT."""
    return pair[: -len(QUOTE)] if pair.endswith(QUOTE) and len(pair) > len(QUOTE) else pair


@dataclass(frozen=True, slots=True)
class Kline:
    open_time: int  # ms since the epoch, UTC
    open: float
    high: float
    low: float
    close: float
    quote_volume: float
    close_time: int

    @property
    def date(self) -> dt.date:
        return _utc_day(self.open_time)


def _utc_day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


@dataclass(frozen=True, slots=True)
class Trade:
    pair: str
    trade_id: int
    price: float
    quantity: float
    at_ms: int
    buyer_maker: bool


def _decimal(value: Any, name: str) -> float:
    if not isinstance(value, str):
        raise FormatError(f"{name} is not a decimal string: {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise FormatError(f"{name} is not a number: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise FormatError(f"{name} is out of range: {value!r}")
    return number


def _millis(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(f"{name} is not a time in milliseconds: {value!r}")
    return value


def kline(row: Any) -> Kline:
    if not isinstance(row, list) or len(row) < 8:
        raise FormatError(f"a kline is an array of 12 fields, not {str(row)[:80]}")
    parsed = Kline(
        open_time=_millis(row[0], "open time"),
        open=_decimal(row[1], "open"),
        high=_decimal(row[2], "high"),
        low=_decimal(row[3], "low"),
        close=_decimal(row[4], "close"),
        quote_volume=_decimal(row[7], "quote volume"),
        close_time=_millis(row[6], "close time"),
    )
    if parsed.low > min(parsed.open, parsed.close) or parsed.high < max(parsed.open, parsed.close):
        raise FormatError(f"kline at {parsed.open_time}: low/high do not bound open/close")
    return parsed


@dataclass(frozen=True, slots=True)
class Klines:
    """A page of klines a column at a time: what `kline` reads from each, in order."""

    open_time: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    quote_volume: list[float]
    close_time: list[int]


def utc_days(open_times: list[int]) -> list[str]:
    """Each time's UTC day, YYYY-MM-DD (`Kline.date`, without a datetime per kline)."""
    if open_times and not 0 <= min(open_times) <= max(open_times) < LAST_MS:
        return [_utc_day(t).isoformat() for t in open_times]
    days = {day: dt.date.fromordinal(EPOCH_DAY + day).isoformat()
            for day in {t // DAY_MS for t in open_times}}
    return [days[t // DAY_MS] for t in open_times]


def klines(rows: Any) -> Klines:
    """`kline` of every row, checked a column at a time (a page is up to 1000 klines). A page
    the column checks doubt is read row by row, so its error is `kline`'s own."""
    columns = _kline_columns(rows) if isinstance(rows, list) else None
    if columns is not None:
        return columns
    parsed = [kline(row) for row in rows]
    return Klines(
        [k.open_time for k in parsed], [k.open for k in parsed], [k.high for k in parsed],
        [k.low for k in parsed], [k.close for k in parsed], [k.quote_volume for k in parsed],
        [k.close_time for k in parsed],
    )


def _kline_columns(rows: list[Any]) -> Klines | None:
    if not rows:
        return Klines([], [], [], [], [], [], [])
    if set(map(type, rows)) != {list} or min(map(len, rows)) < 8:
        return None
    fields = list(zip(*rows, strict=False))  # as many as the shortest row has
    open_time, close_time = list(fields[0]), list(fields[6])
    if set(map(type, open_time)) | set(map(type, close_time)) != {int}:
        return None  # (bool is a type of its own)
    if min(open_time) < 0 or min(close_time) < 0:
        return None
    numbers: list[list[float]] = []
    for index in (1, 2, 3, 4, 7):
        if set(map(type, fields[index])) != {str}:
            return None
        try:
            column = list(map(float, fields[index]))
        except ValueError:
            return None
        # A sum of non-negative finite numbers is finite (short of overflow: then row by row);
        # a NaN or an infinity makes it so too.
        if not math.isfinite(sum(column)) or min(column) < 0:
            return None
        numbers.append(column)
    opens, highs, lows, closes, volumes = numbers
    if not (all(map(operator.le, lows, map(min, opens, closes)))
            and all(map(operator.ge, highs, map(max, opens, closes)))):
        return None
    return Klines(open_time, opens, highs, lows, closes, volumes, close_time)


def trade(message: str | bytes) -> Trade | None:
    """The trade of one stream message; None for a message that is not a trade (a subscription
    answer); FormatError for a trade that is malformed."""
    try:
        event = json.loads(message)
    except ValueError:
        raise FormatError(f"not JSON: {str(message)[:80]!r}") from None
    if isinstance(event, dict) and isinstance(event.get("data"), dict):
        event = event["data"]  # the combined stream's envelope
    if not isinstance(event, dict) or event.get("e") != "trade":
        return None
    pair = event.get("s")
    trade_id = event.get("t")
    if not isinstance(pair, str) or not pair.isalnum():
        raise FormatError(f"trade symbol {pair!r}")
    if not isinstance(trade_id, int) or isinstance(trade_id, bool) or trade_id < 0:
        raise FormatError(f"trade id {trade_id!r}")
    price = _decimal(event.get("p"), "price")
    if price <= 0:
        raise FormatError("trade price is not positive")
    return Trade(
        pair=pair.upper(),
        trade_id=trade_id,
        price=price,
        quantity=_decimal(event.get("q"), "quantity"),
        at_ms=_millis(event.get("T"), "trade time"),
        buyer_maker=bool(event.get("m", False)),
    )


def weight_pause(used: str | None, limit: int, now_ms: int) -> float:
    """Seconds to wait before the next request: none while the minute's used weight
    (X-MBX-USED-WEIGHT-1M) is under 90% of `limit`, else until the next minute begins."""
    if used is None or not used.strip().isdigit():
        return 0.0
    if int(used) < 0.9 * limit:
        return 0.0
    return (60_000 - now_ms % 60_000) / 1000
