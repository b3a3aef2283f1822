"""Series transforms, frequency aggregation and vintages in GraphQL (see transforms.py)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry

from nexus.errors import BadUserInput
from subgraphs.macro import transforms
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.repository import (
    ObservationRange,
    ObservationRecord,
    RevisionRecord,
    VintageRange,
)

FOREVER = dt.date(2149, 6, 6)


@strawberry.enum(description="A units transform of a series, as FRED's `units` parameter.")
class SeriesUnits(enum.Enum):
    LIN = strawberry.enum_value("lin", description="Levels: the values as published.")
    CHG = strawberry.enum_value("chg", description="Change: x(t) - x(t-1), in the units.")
    CH1 = strawberry.enum_value(
        "ch1", description="Change from a year ago: x(t) - x(t - 1 year), in the units."
    )
    PCH = strawberry.enum_value(
        "pch", description="Percent change: 100 (x(t)/x(t-1) - 1), percent."
    )
    PC1 = strawberry.enum_value(
        "pc1", description="Percent change from a year ago (year over year), percent."
    )
    PCA = strawberry.enum_value(
        "pca", description="Compounded annual rate of change: 100 ((x(t)/x(t-1))^n - 1), percent."
    )
    CCH = strawberry.enum_value(
        "cch", description="Continuously compounded rate of change: 100 ln(x(t)/x(t-1)), percent."
    )
    CCA = strawberry.enum_value(
        "cca", description="Continuously compounded annual rate: 100 n ln(x(t)/x(t-1)), percent."
    )
    LOG = strawberry.enum_value("log", description="Natural log: ln x(t), no unit.")


@strawberry.enum(description="A lower frequency to aggregate a series to.")
class SeriesFrequency(enum.Enum):
    WEEK = strawberry.enum_value("Weekly", description="Weeks, labelled by their Monday.")
    MONTH = strawberry.enum_value("Monthly", description="Calendar months, by their first day.")
    QUARTER = strawberry.enum_value("Quarterly", description="Quarters, by their first day.")
    YEAR = strawberry.enum_value("Annual", description="Calendar years, by 1 January.")


@strawberry.enum(description="How the observations of a period become one value.")
class SeriesAggregation(enum.Enum):
    AVERAGE = strawberry.enum_value("avg", description="The mean of the period's observations.")
    SUM = strawberry.enum_value("sum", description="The sum of the period's observations.")
    END_OF_PERIOD = strawberry.enum_value("eop", description="The period's last observation.")


@strawberry.type(description="One published value of an observation date, and when it held.")
class Revision:
    realtime_start: dt.date = strawberry.field(
        description="The first day this value was the published one."
    )
    realtime_end: dt.date | None = strawberry.field(
        description="The last day it was; null while it still is."
    )
    value: float | None = strawberry.field(
        description="The value, in the series' units; null where that vintage had none."
    )


AsOf = Annotated[
    dt.date | None,
    strawberry.argument(
        description="Return the values as they were published on this day (ALFRED vintages, "
        "stored by `nexus ingest fred`); default: as published now."
    ),
]


async def observation_records(
    context: MacroContext,
    series_id: str,
    start: dt.date | None,
    end: dt.date | None,
    as_of: dt.date | None,
) -> list[ObservationRecord]:
    if as_of is None:
        records: list[ObservationRecord] = await context.observations.load(
            ObservationRange(series_id, start, end)
        )
        return records
    if not await context.has_vintages.load(series_id):
        raise BadUserInput(
            f"No vintages of {series_id} are stored, so `asOf` cannot be answered: ingest it "
            f"with `nexus ingest fred --only {series_id}`.",
            argument="asOf",
        )
    vintaged: list[ObservationRecord] = await context.as_of.load(
        VintageRange(series_id, start, end, as_of)
    )
    return vintaged


async def transformed(
    context: MacroContext,
    series_id: str,
    series_frequency: str,
    *,
    units: SeriesUnits,
    frequency: SeriesFrequency | None,
    aggregation: SeriesAggregation,
    start: dt.date | None,
    end: dt.date | None,
    as_of: dt.date | None,
) -> list[tuple[dt.date, float]]:
    """The series from `start` to `end`, aggregated then transformed, oldest first."""
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    unit = transforms.Units(units.value)
    target = None if frequency is None else transforms.Frequency(frequency.value)
    per_year = transforms.PERIODS_PER_YEAR.get(
        target.value if target else series_frequency.split(",")[0].strip()
    )
    if per_year is None and unit in (transforms.Units.PCA, transforms.Units.CCA):
        raise BadUserInput(
            f"{series_id} is published {series_frequency!r}: annualised units need a regular "
            "frequency; aggregate it with `frequency`.",
            argument="units",
        )
    # Start early enough for the first value's lookback (a period, or a year).
    lookback = transforms.LOOKBACK_DAYS.get(unit, 0) + (400 if target else 0)
    read_from = None if start is None else days_before(start, lookback)
    records = await observation_records(context, series_id, read_from, end, as_of)
    dates = [r.date for r in records]
    values = [r.value for r in records]
    if target is not None:
        dates, array = transforms.aggregate(
            dates, values, target, transforms.Aggregation(aggregation.value)
        )
    else:
        array = transforms.np.asarray(values, dtype=float)
    dates, array = transforms.transform(dates, array, unit, per_year or 1)
    first = None if start is None else (transforms.period_start(start, target) if target else start)
    return [
        (day, float(value))
        for day, value in zip(dates, array, strict=True)
        if first is None or day >= first
    ]


def days_before(day: dt.date, days: int) -> dt.date:
    """`day` less `days`, or the first representable day (a `from` of 0001-01-01 is valid)."""
    return day - dt.timedelta(days=days) if day.toordinal() > days else dt.date.min


def revision_from_record(record: RevisionRecord) -> Revision:
    return Revision(
        realtime_start=record.realtime_start,
        realtime_end=None if record.realtime_end >= FOREVER else record.realtime_end,
        value=record.value,
    )
