"""Series prepared for charts: LTTB downsampling and calendar OHLC bars (engines.charts).

Synchronous array work meant to run off the event loop. Times are days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines import charts
from nexus.metrics import engine_call

EPOCH = dt.date(1970, 1, 1)
_FIRST_MONDAY = dt.date(1970, 1, 5)


class BarInterval(enum.Enum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Points:
    """A series as two columns: dates and values, oldest first."""

    dates: list[dt.date]
    values: list[float]


@dataclass(frozen=True, slots=True)
class Bars:
    starts: list[dt.date]  # first calendar day of each bar (a Monday, or the 1st)
    opens: list[float]
    highs: list[float]
    lows: list[float]
    closes: list[float]
    counts: list[int]  # observations in the bar


def day_numbers(dates: Sequence[dt.date]) -> np.ndarray:
    return np.asarray([(d - EPOCH).days for d in dates], np.int64)


@engine_call("lttb_downsample")
def downsample(series: Sequence[Points], num_points: Sequence[int]) -> list[Points]:
    """Each series to at most its `num_points` with LTTB.

    The engine batches series of one length and one target, so series are grouped by
    (length, points): one engine call per group, one call when a request charts a single
    window of many series. Series already short enough are returned as they are.
    """
    result: list[Points | None] = [None] * len(series)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (points, target) in enumerate(zip(series, num_points, strict=True)):
        if len(points.values) <= target:
            result[i] = points
        else:
            groups[(len(points.values), target)].append(i)
    for (_, target), members in groups.items():
        times = np.stack([day_numbers(series[i].dates) for i in members])
        values = np.stack([np.asarray(series[i].values, np.float64) for i in members])
        kept = np.asarray(
            charts.lttb_downsample(times=times, values=values, num_points=target).indices
        )
        for row, i in enumerate(members):
            result[i] = Points(
                [series[i].dates[k] for k in kept[row]], [series[i].values[k] for k in kept[row]]
            )
    return [points for points in result if points is not None]


def _bar_index(day: dt.date, interval: BarInterval) -> int:
    if interval is BarInterval.WEEK:
        return (day - _FIRST_MONDAY).days // 7
    return day.year * 12 + day.month - 1


def _bar_start(index: int, interval: BarInterval) -> dt.date:
    if interval is BarInterval.WEEK:
        return _FIRST_MONDAY + dt.timedelta(days=7 * index)
    return dt.date(index // 12, index % 12 + 1, 1)


@engine_call("ohlc_bars")
def resample(series: Sequence[Points], interval: BarInterval) -> list[Bars]:
    """Calendar bars (Monday weeks or months) of every series in ONE engine call.

    Months are not of fixed width, so the engine is given each observation's bar number as its
    timestamp (bars of width 1); the series are laid end to end, each in its own block of bar
    numbers, and a block's empty bars (no observation that week or month) are dropped.
    """
    indexed = [[_bar_index(d, interval) for d in s.dates] for s in series]
    spans = [(ix[0], ix[-1]) for ix in indexed if ix]
    if not spans:
        return [Bars([], [], [], [], [], []) for _ in series]
    first = min(lo for lo, _ in spans)
    block = max(hi for _, hi in spans) - first + 1
    stamps = np.concatenate(
        [np.asarray(ix, np.int64) - first + k * block for k, ix in enumerate(indexed)]
    )
    prices = np.concatenate([np.asarray(s.values, np.float64) for s in series])
    bars = charts.ohlc_bars(
        prices=prices, timestamps=stamps, bar_width=1, origin=0, num_bars=block * len(series)
    )
    columns = [
        np.asarray(a).reshape(len(series), block)
        for a in (bars.opens, bars.highs, bars.lows, bars.closes, bars.tick_counts)
    ]
    result = []
    for k in range(len(series)):
        opens, highs, lows, closes, counts = (c[k] for c in columns)
        live = np.flatnonzero(counts > 0)
        result.append(
            Bars(
                [_bar_start(int(i) + first, interval) for i in live],
                opens[live].tolist(),
                highs[live].tolist(),
                lows[live].tolist(),
                closes[live].tolist(),
                counts[live].astype(int).tolist(),
            )
        )
    return result
