"""The macro subgraph's root fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput
from nexus.graphql_errors import SubgraphSchema
from subgraphs.columns import COLUMN_SCALARS, column
from subgraphs.macro import curves
from subgraphs.macro.analytics import par_curve
from subgraphs.macro.bond_types import BondQuery
from subgraphs.macro.chart_types import YieldCurveSurface
from subgraphs.macro.curve_types import TENORS_HELP, CurveModelName, tenors_or_standard
from subgraphs.macro.indicator_types import IndicatorQuery
from subgraphs.macro.live import Mutation, SimulationQuery
from subgraphs.macro.live import Subscription as SimulationSubscription
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.observation_live import ObservationSubscription
from subgraphs.macro.types import Series, YieldCurve, curve_from_record, from_record

MAX_CURVE_DAYS = 3_660


@strawberry.type(description="The entry points for reading data.")
class Query(SimulationQuery, BondQuery, IndicatorQuery):
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

    # Batched: fits of all dates share one engine call.
    @strawberry.field(
        description="Every Treasury par curve published from `from` to `to` inclusive (at most "
        f"{MAX_CURVE_DAYS:,} calendar days), oldest first; ask each for `fit` or `bootstrapped`: "
        "all dates are computed together.",
        # Demand control: the days from `from` to `to` (a curve per business day at most).
        directives=[assumed_size(250)],
    )
    async def yield_curves(
        self,
        info: Info[MacroContext, None],
        from_: Annotated[dt.date, strawberry.argument(name="from", description="First day.")],
        to: Annotated[dt.date, strawberry.argument(description="Last day.")],
    ) -> list[YieldCurve] | None:
        records = await info.context.repository.par_curves_between(*_range(from_, to))
        return [curve for record in records if (curve := curve_from_record(record)) is not None]

    # Batched: one fit and one evaluation call per request.
    @strawberry.field(
        description="The yield-curve surface for 3D charts: each business day's fitted zero "
        "curve from `from` to `to` (at most "
        f"{MAX_CURVE_DAYS:,} calendar days) at `tenors`, as packed columns.",
        directives=[Cost(weight=20)],
    )
    async def yield_curve_surface(
        self,
        info: Info[MacroContext, None],
        from_: Annotated[dt.date, strawberry.argument(name="from", description="First day.")],
        to: Annotated[dt.date, strawberry.argument(description="Last day.")],
        tenors: Annotated[list[float] | None, strawberry.argument(description=TENORS_HELP)] = None,
        model: Annotated[
            CurveModelName, strawberry.argument(description="The model fitted; default SVENSSON.")
        ] = CurveModelName.SVENSSON,
    ) -> YieldCurveSurface | None:
        wanted = tenors_or_standard(tenors)
        records = await info.context.repository.par_curves_between(*_range(from_, to))
        if not records:
            raise BadUserInput(
                f"No Treasury curve between {from_} and {to}: the curves run from 1990-01-02.",
                argument="from",
            )
        loaders = info.context.analytics
        fits = await loaders.curve_fits.load_many(
            [(par_curve(r), curves.CurveModel(model.value)) for r in records]
        )
        values = await loaders.fit_values.load_many([(f.parameters, wanted) for f in fits])
        return YieldCurveSurface(
            dates=[r.date for r in records],
            tenors_years=column(list(wanted)),
            zero_rates=column([100 * float(z) for zero, _ in values for z in zero]),
            rmse_bp=column([10_000 * f.rmse for f in fits]),
        )


def _range(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    if start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    if (end - start).days > MAX_CURVE_DAYS:
        raise BadUserInput(
            f"`from` to `to` spans {(end - start).days:,} days: at most {MAX_CURVE_DAYS:,} per "
            "request; split the range.",
            argument="to",
        )
    return start, end


@strawberry.type(description="Live streams, over WebSocket or Server-Sent Events.")
class Subscription(SimulationSubscription, ObservationSubscription):
    pass


schema = SubgraphSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Series, YieldCurve],
    config=StrawberryConfig(scalar_map=COLUMN_SCALARS),
)
