"""GraphQL types of the macro subgraph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput
from nexus.slices import SLICE, in_slices
from subgraphs.macro import curves
from subgraphs.macro.analytics import SeriesWindow, par_curve
from subgraphs.macro.chart_types import (
    BarIntervalName,
    SeriesBars,
    SeriesPoints,
    series_bars,
    series_points,
)
from subgraphs.macro.charts import BarInterval
from subgraphs.macro.curve_types import (
    BootstrappedCurve,
    CurveModelName,
    FittedCurve,
    bootstrapped_curve,
    fitted_curve,
)
from subgraphs.macro.inputs import check_number
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.repository import (
    CurveRecord,
    SeriesRecord,
    max_observations,
    too_many_observations,
)
from subgraphs.macro.transform_types import (
    AsOf,
    Revision,
    SeriesAggregation,
    SeriesFrequency,
    SeriesUnits,
    observation_records,
    revision_from_record,
    transformed,
)
from subgraphs.pages import DEFAULT_PAGE, After, Connection, First, paginate


@strawberry.type(description="One published value of a series.")
class Observation:
    date: dt.date = strawberry.field(description="The date the value is for (period start).")
    value: float = strawberry.field(description="The value, in the series' `units`.")


# The window of a chart of a series (downsampled points, bars): open ends take the whole history.
ChartFrom = Annotated[
    dt.date | None,
    strawberry.argument(name="from", description="First day; default: the first observation."),
]
ChartTo = Annotated[
    dt.date | None, strawberry.argument(description="Last day; default: the last observation.")
]


@strawberry.federation.type(keys=["id"], description="A FRED economic data series.")
class Series:
    id: strawberry.ID = strawberry.field(description="The FRED series id, e.g. DGS10.")
    title: str = strawberry.field(description="The title FRED publishes it under.")
    units: str = strawberry.field(
        description="What the values measure, as FRED states it, e.g. Percent."
    )
    frequency: str = strawberry.field(description="How often it is published, e.g. Daily.")

    @classmethod
    async def resolve_reference(cls, info: Info[MacroContext, None], id: str) -> Series | None:
        return from_record(await info.context.series.load(str(id).upper()))

    @strawberry.field(
        description="Observations between `from` and `to` inclusive, oldest first. One request "
        "returns at most 20,000 observations in all (configurable): page longer histories "
        "with `from`/`to`.",
        directives=[assumed_size(31)],  # demand control: a month of days
    )
    async def observations(
        self,
        info: Info[MacroContext, None],
        from_: Annotated[
            dt.date | None,
            strawberry.argument(name="from", description="First date, inclusive; open if null."),
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Last date, inclusive; open if null.")
        ] = None,
        as_of: AsOf = None,
    ) -> list[Observation]:  # or an async iterator of them, for long histories
        if from_ is not None and to is not None and from_ > to:
            raise BadUserInput(
                f"`from` ({from_}) is after `to` ({to}): swap them.", argument="from"
            )
        limit = max_observations()
        if info.context.observations_served > limit:  # refused already: read nothing more
            raise too_many_observations(limit)
        try:
            records = await observation_records(info.context, str(self.id), from_, to, as_of)
        except BadUserInput:
            info.context.observations_served = limit + 1
            raise
        # Each observation is a GraphQL object completed on the event loop: a bound per request
        # keeps one request from freezing the others (every series since 1980 stalled it 7 s).
        info.context.observations_served += len(records)
        if info.context.observations_served > limit:
            raise too_many_observations(limit)
        observations = (Observation(date=r.date, value=r.value) for r in records)
        if len(records) <= SLICE:
            return list(observations)
        # graphql-core accepts an async iterator for a list field (see nexus.slices).
        return cast("list[Observation]", in_slices(observations))

    # Batched: one LTTB call per request.
    @strawberry.field(
        description="Observations between `from` and `to` reduced to at most `points` for a line "
        "chart by Largest-Triangle-Three-Buckets (keeps the first, the last and the shape).",
        directives=[Cost(weight=5)],
    )
    async def downsampled(
        self,
        info: Info[MacroContext, None],
        points: Annotated[int, strawberry.argument(description="Points to keep, 3 to 10,000.")],
        from_: ChartFrom = None,
        to: ChartTo = None,
    ) -> SeriesPoints:
        check_number(points, argument="points", low=3, high=10_000)
        window = _window(str(self.id), from_, to)
        return series_points(await info.context.analytics.downsampled.load((window, points)))

    # Batched: all series of a request resampled in one OHLC call.
    @strawberry.field(
        description="Weekly or monthly open/high/low/close bars of the observations between "
        "`from` and `to`.",
        directives=[Cost(weight=5)],
    )
    async def bars(
        self,
        info: Info[MacroContext, None],
        interval: Annotated[BarIntervalName, strawberry.argument(description="WEEK or MONTH.")],
        from_: ChartFrom = None,
        to: ChartTo = None,
    ) -> SeriesBars:
        window = _window(str(self.id), from_, to)
        key = (window, BarInterval(interval.value))
        return series_bars(await info.context.analytics.bars.load(key))

    # Batched: one read and one numpy pass per series.
    @strawberry.field(
        description="The series as FRED transforms it: first aggregated to a lower `frequency` "
        "(if given) by `aggregation`, then in `units` (change, percent change, year over year, "
        "annualised, log), from `from` to `to`, optionally as published on `asOf`; a page of "
        "`first` values after `after`, oldest first. Dates without a defined value (the first "
        "change, the log of a non-positive number) are left out.",
        directives=[Cost(weight=5)],
    )
    async def transformed(
        self,
        info: Info[MacroContext, None],
        units: Annotated[
            SeriesUnits, strawberry.argument(description="The transform; default LIN (levels).")
        ] = SeriesUnits.LIN,
        frequency: Annotated[
            SeriesFrequency | None,
            strawberry.argument(description="Aggregate to this frequency first; null: as is."),
        ] = None,
        aggregation: Annotated[
            SeriesAggregation,
            strawberry.argument(description="How a period's values combine; default AVERAGE."),
        ] = SeriesAggregation.AVERAGE,
        from_: ChartFrom = None,
        to: ChartTo = None,
        as_of: AsOf = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Observation]:
        values = await transformed(
            info.context,
            str(self.id),
            self.frequency,
            units=units,
            frequency=frequency,
            aggregation=aggregation,
            start=from_,
            end=to,
            as_of=as_of,
        )
        return paginate([Observation(date=d, value=v) for d, v in values], first, after)

    @strawberry.field(
        description="Whether ALFRED vintages of this series are stored (`asOf` and `revisions` "
        "need them; `nexus ingest fred` stores them)."
    )
    async def has_vintages(self, info: Info[MacroContext, None]) -> bool:
        found: bool = await info.context.has_vintages.load(str(self.id))
        return found

    @strawberry.field(
        description="Every value published for the observation of `date`, first release "
        "first (ALFRED vintages); empty when no vintages are stored."
    )
    async def revisions(
        self,
        info: Info[MacroContext, None],
        date: Annotated[
            dt.date, strawberry.argument(description="The observation date, YYYY-MM-DD.")
        ],
    ) -> list[Revision]:
        records = await info.context.vintages.revisions(str(self.id), date)
        return [revision_from_record(record) for record in records]

    @strawberry.field(description="The most recent observation.")
    async def latest(self, info: Info[MacroContext, None]) -> Observation | None:
        record = await info.context.latest_observations.load(str(self.id))
        return None if record is None else Observation(date=record.date, value=record.value)


def _window(series_id: str, start: dt.date | None, end: dt.date | None) -> SeriesWindow:
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    return SeriesWindow(series_id, start, end)


@strawberry.type(description="One tenor of a par yield curve.")
class CurvePoint:
    tenor: str = strawberry.field(description="Label as the Treasury prints it: 1M, 6M, 2Y, 30Y.")
    months: int = strawberry.field(description="The tenor, months (24 for 2Y).")
    rate: float = strawberry.field(description="Par yield, percent.")


@strawberry.federation.type(
    keys=["date"],
    description="The US Treasury daily par yield curve. An entity keyed by `date`, so another "
    "subgraph can hand out a day's curve (a reference to the last curve on or before that day) "
    "and the router resolves its fits and rates here.",
)
class YieldCurve:
    date: dt.date = strawberry.field(description="The business day the curve was published.")
    points: list[CurvePoint] = strawberry.field(
        directives=[assumed_size(13)],  # the Treasury publishes 13 tenors
        description="Every published tenor, shortest first.",
    )
    par: strawberry.Private[curves.ParCurve]

    @classmethod
    async def resolve_reference(
        cls, info: Info[MacroContext, None], date: str
    ) -> YieldCurve | None:
        try:
            day = dt.date.fromisoformat(str(date))
        except ValueError:
            raise BadUserInput(
                f"`date` {date!r} is not a YYYY-MM-DD date.", argument="date"
            ) from None
        return curve_from_record(await info.context.par_curves.load(day))

    # @cost 10: a least-squares fit; every date of the request shares one engine call.
    @strawberry.field(
        description="A Nelson-Siegel or Svensson curve fitted to this day's zero rates.",
        directives=[Cost(weight=10)],
    )
    async def fit(
        self,
        info: Info[MacroContext, None],
        model: Annotated[
            CurveModelName, strawberry.argument(description="The model to fit; default SVENSSON.")
        ] = CurveModelName.SVENSSON,
    ) -> FittedCurve:
        key = (self.par, curves.CurveModel(model.value))
        return fitted_curve(await info.context.analytics.curve_fits.load(key))

    # @cost 2: every date of the request shares one bootstrap call.
    @strawberry.field(
        description="This day's zero, discount and forward curve, bootstrapped.",
        directives=[Cost(weight=2)],
    )
    async def bootstrapped(self, info: Info[MacroContext, None]) -> BootstrappedCurve:
        return bootstrapped_curve(await info.context.analytics.zero_curves.load(self.par))


def tenor_label(months: int) -> str:
    return f"{months}M" if months < 12 else f"{months // 12}Y"


def from_record(record: SeriesRecord | None) -> Series | None:
    if record is None:
        return None
    return Series(
        id=strawberry.ID(record.id),
        title=record.title,
        units=record.units,
        frequency=record.frequency,
    )


def curve_from_record(record: CurveRecord | None) -> YieldCurve | None:
    if record is None:
        return None
    points = [CurvePoint(tenor=tenor_label(m), months=m, rate=rate) for m, rate in record.points]
    return YieldCurve(date=record.date, points=points, par=par_curve(record))
