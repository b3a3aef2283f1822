"""GraphQL types of the macro subgraph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.repository import CurveRecord, ObservationRange, SeriesRecord


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
        description="Observations between `from` and `to` inclusive, oldest first.",
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
    ) -> list[Observation]:
        if from_ is not None and to is not None and from_ > to:
            raise BadUserInput(
                f"`from` ({from_}) is after `to` ({to}): swap them.", argument="from"
            )
        records = await info.context.observations.load(ObservationRange(str(self.id), from_, to))
        return [Observation(date=r.date, value=r.value) for r in records]

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
        directives=[assumed_size(13)],  # the Treasury publishes 13 tenors
        description="Every published tenor, shortest first.",
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
