"""The macro subgraph's root fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.graphql_errors import SubgraphSchema
from subgraphs.macro.live import Mutation, SimulationQuery, Subscription
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.types import Series, YieldCurve, curve_from_record, from_record


@strawberry.type(description="The entry points for reading data.")
class Query(SimulationQuery):
    @strawberry.field(description="A FRED series by id (case-insensitive); null if unknown.")
    async def series(
        self,
        info: Info[MacroContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="FRED id, e.g. DGS10.")],
    ) -> Series | None:
        return from_record(await info.context.series.load(str(id).upper()))

    @strawberry.field(
        description="Every FRED series on record, by id.",
        directives=[assumed_size(50)],  # demand control: about the demo's series
    )
    async def all_series(self, info: Info[MacroContext, None]) -> list[Series]:
        records = await info.context.repository.all_series()
        return [series for record in records if (series := from_record(record)) is not None]

    @strawberry.field(
        description="The Treasury par yield curve on `date`, or on the last business day before "
        "it (see `YieldCurve.date`); null before the first curve on record (1990-01-02)."
    )
    async def yield_curve(
        self,
        info: Info[MacroContext, None],
        date: Annotated[dt.date, strawberry.argument(description="The day wanted, YYYY-MM-DD.")],
    ) -> YieldCurve | None:
        return curve_from_record(await info.context.par_curves.load(date))


schema = SubgraphSchema(query=Query, mutation=Mutation, subscription=Subscription, types=[Series])
