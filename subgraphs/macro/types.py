"""GraphQL types of the macro subgraph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from nexus.errors import BadUserInput
from nexus.slices import SLICE, in_slices
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.repository import (
    CurveRecord,
    ObservationRange,
    SeriesRecord,
    max_observations,
    too_many_observations,
)


@strawberry.type(description="One published value of a series.")
class Observation:
    date: dt.date = strawberry.field(description="The date the value is for (period start).")
    value: float = strawberry.field(description="The value, in the series' `units`.")


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
        "with `from`/`to`."
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
    ) -> list[Observation]:  # or an async iterator of them, for long histories
        if from_ is not None and to is not None and from_ > to:
            raise BadUserInput(
                f"`from` ({from_}) is after `to` ({to}): swap them.", argument="from"
            )
        limit = max_observations()
        if info.context.observations_served > limit:  # refused already: read nothing more
            raise too_many_observations(limit)
        try:
            records = await info.context.observations.load(
                ObservationRange(str(self.id), from_, to)
            )
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

    @strawberry.field(description="The most recent observation.")
    async def latest(self, info: Info[MacroContext, None]) -> Observation | None:
        record = await info.context.latest_observations.load(str(self.id))
        return None if record is None else Observation(date=record.date, value=record.value)


@strawberry.type(description="One tenor of a par yield curve.")
class CurvePoint:
    tenor: str = strawberry.field(description="Label as the Treasury prints it: 1M, 6M, 2Y, 30Y.")
    months: int = strawberry.field(description="The tenor, months (24 for 2Y).")
    rate: float = strawberry.field(description="Par yield, percent.")


@strawberry.type(description="The US Treasury daily par yield curve.")
class YieldCurve:
    date: dt.date = strawberry.field(description="The business day the curve was published.")
    points: list[CurvePoint] = strawberry.field(
        description="Every published tenor, shortest first."
    )


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
    return YieldCurve(date=record.date, points=points)
