"""GraphQL types for charts (SimViz): downsampled lines, calendar bars, the yield-curve surface.

All answers are packed columns: parallel lists a chart library takes as they are.
"""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from subgraphs.columns import FloatColumn, column
from subgraphs.macro import charts


@strawberry.enum(description="The calendar period of one bar.")
class BarIntervalName(enum.Enum):
    WEEK = strawberry.enum_value("week", description="Monday to Sunday.")
    MONTH = strawberry.enum_value("month", description="A calendar month.")


@strawberry.type(description="A series reduced for a line chart: parallel columns, oldest first.")
class SeriesPoints:
    dates: list[dt.date] = strawberry.field(description="Observation dates.")
    values: FloatColumn = strawberry.field(description="Values, in the series' units.")


def series_points(points: charts.Points) -> SeriesPoints:
    return SeriesPoints(dates=points.dates, values=column(points.values))


@strawberry.type(
    description="Open, high, low and close of a series per calendar period: parallel columns, "
    "oldest first; periods without an observation are left out."
)
class SeriesBars:
    period_starts: list[dt.date] = strawberry.field(
        description="First day of each period (a Monday, or the 1st of the month)."
    )
    opens: FloatColumn = strawberry.field(description="First value of the period, series units.")
    highs: FloatColumn = strawberry.field(description="Highest value, series units.")
    lows: FloatColumn = strawberry.field(description="Lowest value, series units.")
    closes: FloatColumn = strawberry.field(description="Last value of the period, series units.")
    observations: list[int] = strawberry.field(description="Observations in the period.")


def series_bars(bars: charts.Bars) -> SeriesBars:
    return SeriesBars(
        period_starts=bars.starts,
        opens=column(bars.opens),
        highs=column(bars.highs),
        lows=column(bars.lows),
        closes=column(bars.closes),
        observations=bars.counts,
    )


@strawberry.type(
    description="Fitted zero rates over dates x tenors, for 3D charts: `zeroRates` is row-major, "
    "one row per date, so the rate of date i at tenor j is zeroRates[i * len(tenorsYears) + j]."
)
class YieldCurveSurface:
    dates: list[dt.date] = strawberry.field(description="Curve dates, oldest first (the rows).")
    tenors_years: FloatColumn = strawberry.field(description="Maturities, years (the columns).")
    zero_rates: FloatColumn = strawberry.field(
        description="Zero rates of each day's fitted curve, percent, continuously compounded; "
        "len(dates) * len(tenorsYears) values, row-major."
    )
    rmse_bp: FloatColumn = strawberry.field(
        description="Each day's fit error over its published tenors, basis points."
    )
