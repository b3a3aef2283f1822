"""Chart-ready candle histories, shared (@shareable) by crypto (`Token`) and micro (`Stock`),
each field made once here (`close_chart_field`, `bars_field`):

- `closeChart(points)`: the closes downsampled to at most `points` points by LTTB (one
  `lttb_downsample` call per group of equal-length series in a request);
- `bars(interval)`: daily candles resampled into weekly (Monday-based) or monthly OHLCV bars,
  every series of a request in ONE `ohlc_bars` call: each series' bars are numbered after the
  previous series', and each day enters as four ticks (open, high, low, close; its volume on
  the close) so a bar opens at its first day's open and closes at its last day's close.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import numpy as np
import strawberry
from aiodataloader import DataLoader
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from engines.charts import lttb_downsample, ohlc_bars
from nexus.errors import BadUserInput
from nexus.metrics import engine_call
from subgraphs.candles import Candle, From, To, candle_range
from subgraphs.columns import FloatColumn, column

MAX_POINTS = 10_000
_MONDAY = dt.date(1970, 1, 5)


@strawberry.enum(description="Width of a resampled bar.")
class BarInterval(enum.Enum):
    WEEK = strawberry.enum_value("week", description="Monday to Sunday (UTC).")
    MONTH = strawberry.enum_value("month", description="A calendar month.")


@strawberry.federation.type(
    shareable=True, description="A downsampled close series (LTTB): parallel columns."
)
class CloseChart:
    dates: list[dt.date] = strawberry.field(description="Days kept, oldest first.")
    closes: FloatColumn = strawberry.field(description="Their closes, in the asset's currency.")
    source_points: int = strawberry.field(description="Daily closes before downsampling.")


@strawberry.federation.type(
    shareable=True, description="OHLCV bars resampled from daily candles: parallel columns."
)
class PriceBars:
    starts: list[dt.date] = strawberry.field(
        description="First calendar day of each bar (a Monday, or the 1st of a month)."
    )
    opens: FloatColumn = strawberry.field(description="Open of the bar's first trading day.")
    highs: FloatColumn = strawberry.field(description="Highest high in the bar.")
    lows: FloatColumn = strawberry.field(description="Lowest low in the bar.")
    closes: FloatColumn = strawberry.field(description="Close of the bar's last trading day.")
    volumes: FloatColumn = strawberry.field(description="Summed daily volume (units traded).")
    days: list[int] = strawberry.field(description="Trading days in each bar.")


@dataclass(eq=False)
class CloseChartRequest:
    candles: list[Candle]
    points: int


@dataclass(eq=False)
class BarsRequest:
    candles: list[Candle]
    interval: BarInterval


def check_points(points: int) -> int:
    if not 3 <= points <= MAX_POINTS:
        raise BadUserInput(
            f"points={points} must lie in [3, {MAX_POINTS}].", argument="points"
        )
    return points


def check_candles(candles: Sequence[Candle]) -> None:
    if not candles:
        raise BadUserInput("No daily candles in the period: pick dates with data.", argument="from")


@engine_call("lttb_downsample")
def _downsample(requests: Sequence[CloseChartRequest]) -> list[CloseChart]:
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, request in enumerate(requests):
        groups[(len(request.candles), request.points)].append(index)
    charts: list[CloseChart | None] = [None] * len(requests)
    for (length, points), members in groups.items():
        days = np.array(
            [[c.date.toordinal() for c in requests[i].candles] for i in members], np.int64
        )
        closes = np.array([[c.close for c in requests[i].candles] for i in members])
        if points >= length:
            kept = np.broadcast_to(np.arange(length), (len(members), length))
        else:
            kept = np.asarray(
                lttb_downsample(times=days, values=closes, num_points=points).indices
            )
        for row, i in enumerate(members):
            candles = requests[i].candles
            charts[i] = CloseChart(
                dates=[candles[k].date for k in kept[row].tolist()],
                closes=column([candles[k].close for k in kept[row].tolist()]),
                source_points=length,
            )
    return charts  # type: ignore[return-value]


def _bar_numbers(days: Sequence[dt.date], interval: BarInterval) -> np.ndarray:
    if interval is BarInterval.WEEK:
        return np.array([(day - _MONDAY).days // 7 for day in days], np.int64)
    return np.array([day.year * 12 + day.month - 1 for day in days], np.int64)


def _bar_start(number: int, interval: BarInterval) -> dt.date:
    if interval is BarInterval.WEEK:
        return _MONDAY + dt.timedelta(days=7 * number)
    return dt.date(number // 12, number % 12 + 1, 1)


@engine_call("ohlc_bars")
def _resample(requests: Sequence[BarsRequest]) -> list[PriceBars]:
    timestamps, prices, volumes, spans = [], [], [], []
    offset = 0
    for request in requests:
        numbers = _bar_numbers([c.date for c in request.candles], request.interval)
        first = int(numbers[0])
        count = int(numbers[-1]) - first + 1
        stamps = np.repeat(numbers - first + offset, 4)
        ticks = np.array([[c.open, c.high, c.low, c.close] for c in request.candles]).ravel()
        volume = np.zeros((len(request.candles), 4))
        volume[:, 3] = [c.volume for c in request.candles]
        timestamps.append(stamps)
        prices.append(ticks)
        volumes.append(volume.ravel())
        spans.append((first, offset, count))
        offset += count
    bars = ohlc_bars(
        prices=np.concatenate(prices),
        timestamps=np.concatenate(timestamps),
        volumes=np.concatenate(volumes),
        bar_width=1,
        origin=0,
        num_bars=offset,
    )
    columns = {
        name: np.asarray(getattr(bars, name))
        for name in ("opens", "highs", "lows", "closes", "volumes", "tick_counts")
    }
    results = []
    for request, (first, start, count) in zip(requests, spans, strict=True):
        part = slice(start, start + count)
        filled = columns["tick_counts"][part] > 0  # weeks or months without a trading day
        numbers = np.arange(first, first + count)[filled]
        results.append(
            PriceBars(
                starts=[_bar_start(int(n), request.interval) for n in numbers],
                opens=columns["opens"][part][filled].tolist(),
                highs=columns["highs"][part][filled].tolist(),
                lows=columns["lows"][part][filled].tolist(),
                closes=columns["closes"][part][filled].tolist(),
                volumes=columns["volumes"][part][filled].tolist(),
                days=(columns["tick_counts"][part][filled] // 4).tolist(),
            )
        )
    return results


async def close_chart_batches(requests: Sequence[CloseChartRequest]) -> list[CloseChart]:
    """DataLoader batch function: LTTB off the event loop."""
    return await asyncio.to_thread(_downsample, requests)


async def bars_batches(requests: Sequence[BarsRequest]) -> list[PriceBars]:
    """DataLoader batch function: one OHLC resampling call for every series, off the loop."""
    return await asyncio.to_thread(_resample, requests)


class ChartContext(Protocol):
    candles: DataLoader
    close_charts: DataLoader
    bars: DataLoader


def close_chart_field(source: Callable[[Any], ChartContext]) -> Any:
    """The `closeChart` field of a type with a `symbol`; `source` picks the DataLoaders out
    of the request's context."""

    async def close_chart(
        self: Any,
        info: Info,
        points: Annotated[int, strawberry.argument(description="Points to keep, 3 to 10,000.")],
        from_: From = None,
        to: To = None,
    ) -> CloseChart | None:
        check_points(points)
        context = source(info.context)
        candles: list[Candle] = await context.candles.load(candle_range(self.symbol, from_, to))
        check_candles(candles)
        chart: CloseChart = await context.close_charts.load(CloseChartRequest(candles, points))
        return chart

    return strawberry.field(
        resolver=close_chart,
        description="Daily closes downsampled to at most `points` points (Largest-Triangle-"
        "Three-Buckets keeps the shape of the line).",
        directives=[Cost(weight=5)],
    )


def bars_field(source: Callable[[Any], ChartContext]) -> Any:
    """The `bars` field of a type with a `symbol`, like `close_chart_field`."""

    async def bars(
        self: Any,
        info: Info,
        interval: Annotated[BarInterval, strawberry.argument(description="WEEK or MONTH.")],
        from_: From = None,
        to: To = None,
    ) -> PriceBars | None:
        context = source(info.context)
        candles: list[Candle] = await context.candles.load(candle_range(self.symbol, from_, to))
        check_candles(candles)
        resampled: PriceBars = await context.bars.load(BarsRequest(candles, interval))
        return resampled

    return strawberry.field(
        resolver=bars,
        description="Daily candles resampled into weekly or monthly OHLCV bars.",
        directives=[Cost(weight=5)],
    )
