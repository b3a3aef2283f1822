"""Net liquidity and yield-curve inversions in GraphQL (computed in liquidity.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.errors import BadUserInput, NotFound
from subgraphs.macro import liquidity
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.repository import ObservationRange
from subgraphs.macro.transform_types import days_before
from subgraphs.pages import DEFAULT_PAGE, After, Connection, First, paginate

PUBLISHED_MONTHS = (1, 2, 3, 4, 6, 12, 24, 36, 60, 84, 120, 240, 360)
FIRST_CURVE = dt.date(1990, 1, 2)
LATEST = dt.date(2149, 6, 1)

From = Annotated[
    dt.date | None,
    strawberry.argument(name="from", description="First day; default: the first on record."),
]
To = Annotated[
    dt.date | None, strawberry.argument(description="Last day; default: the last on record.")
]


@strawberry.type(
    description="Net liquidity on one of the Federal Reserve's Wednesdays, billions of US "
    "dollars: the Fed's total assets (FRED WALCL, published in millions, converted) minus the "
    "overnight reverse repo (FRED RRPONTSYD) minus the Treasury General Account (FRED WTREGEN)."
)
class NetLiquidityPoint:
    date: dt.date = strawberry.field(description="The Wednesday of the Fed's balance sheet.")
    fed_assets: float = strawberry.field(
        description="Federal Reserve total assets (WALCL), billions USD."
    )
    reverse_repo: float = strawberry.field(
        description="Overnight reverse repo (RRPONTSYD) on that day or the last day before it "
        "within a week, billions USD."
    )
    treasury_general_account: float | None = strawberry.field(
        description="The Treasury General Account (WTREGEN), billions USD; null when it is not "
        "stored for that week (ingest it: `nexus ingest fred --only WTREGEN`)."
    )
    value: float | None = strawberry.field(
        description="Net liquidity, WALCL - RRPONTSYD - WTREGEN, billions USD; null when the "
        "Treasury General Account is missing (then see `excludingTga`)."
    )
    excluding_tga: float = strawberry.field(
        description="WALCL - RRPONTSYD, billions USD: the figure without the Treasury account."
    )


@strawberry.type(
    description="A period in which the Treasury par curve was inverted: the long tenor's yield "
    "below the short tenor's on every published day from `start` to `end`."
)
class CurveInversion:
    start: dt.date = strawberry.field(description="The first inverted day.")
    end: dt.date = strawberry.field(description="The last inverted day.")
    days: int = strawberry.field(description="Business days inverted (curves published).")
    deepest_spread: float = strawberry.field(
        description="The most negative spread (long minus short), percentage points."
    )
    deepest_date: dt.date = strawberry.field(description="The day of `deepestSpread`.")
    average_spread: float = strawberry.field(
        description="The mean spread over the inverted days, percentage points."
    )
    ongoing: bool = strawberry.field(
        description="Whether the curve was still inverted on the last day of the window."
    )


@strawberry.type
class IndicatorQuery:
    # Batched: three series read once per request.
    @strawberry.field(
        description="Net liquidity each Fed Wednesday from `from` to `to`, oldest first, a page "
        "of `first` after `after`: WALCL - RRPONTSYD - WTREGEN in billions USD (sources and "
        "units on NetLiquidityPoint).",
        directives=[Cost(weight=5)],
    )
    async def net_liquidity(
        self,
        info: Info[MacroContext, None],
        from_: From = None,
        to: To = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[NetLiquidityPoint]:
        start, end = _window(from_, to)
        context = info.context
        ids = [liquidity.FED_ASSETS, liquidity.REVERSE_REPO, liquidity.TREASURY_ACCOUNT]
        series = await context.series.load_many(ids)
        if series[0] is None or series[1] is None:
            raise NotFound(
                "Net liquidity needs WALCL and RRPONTSYD, which are not stored: load the demo "
                "data or `nexus ingest fred --only WALCL,RRPONTSYD,WTREGEN`."
            )
        # Start a week early: the first Wednesday takes the reverse repo and TGA of before it.
        early = days_before(start, 7)
        fed, repo, tga = await context.observations.load_many(
            [ObservationRange(series_id, early, end) for series_id in ids]
        )
        try:
            scales = tuple(
                liquidity.billions_per_unit(record.units) if record else 1.0 for record in series
            )
        except liquidity.UnitsUnknown as error:
            raise BadUserInput(f"Net liquidity cannot convert {error}.") from None
        points = liquidity.net_liquidity(fed, repo, tga, scales=scales, start=start)  # type: ignore[arg-type]
        nodes = [
            NetLiquidityPoint(
                date=p.date,
                fed_assets=p.fed_assets,
                reverse_repo=p.reverse_repo,
                treasury_general_account=p.treasury_account,
                value=p.value,
                excluding_tga=p.excluding_tga,
            )
            for p in points
        ]
        return paginate(nodes, first, after)

    # Batched: one read of two tenors.
    @strawberry.field(
        description="Periods from `from` to `to` in which the Treasury par yield of "
        "`longMonths` was below that of `shortMonths` (10Y - 2Y by default), oldest first, "
        "lasting at least `minDays` business days; a page of `first` after `after`.",
        directives=[Cost(weight=5)],
    )
    async def curve_inversions(
        self,
        info: Info[MacroContext, None],
        long_months: Annotated[
            int, strawberry.argument(description="The long tenor, months; default 120 (10Y).")
        ] = 120,
        short_months: Annotated[
            int, strawberry.argument(description="The short tenor, months; default 24 (2Y).")
        ] = 24,
        min_days: Annotated[
            int,
            strawberry.argument(description="Shortest period kept, business days, 1 to 1,000."),
        ] = 1,
        from_: From = None,
        to: To = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[CurveInversion]:
        for name, months in (("longMonths", long_months), ("shortMonths", short_months)):
            if months not in PUBLISHED_MONTHS:
                raise BadUserInput(
                    f"`{name}` is {months}: the Treasury publishes "
                    f"{', '.join(map(str, PUBLISHED_MONTHS))} months.",
                    argument=name,
                )
        if long_months <= short_months:
            raise BadUserInput(
                f"`longMonths` ({long_months}) must be longer than `shortMonths` ({short_months}).",
                argument="longMonths",
            )
        if not 1 <= min_days <= 1_000:
            raise BadUserInput(f"`minDays` is {min_days}: give 1 to 1,000.", argument="minDays")
        start, end = _window(from_, to)
        spreads = await info.context.vintages.curve_spreads(
            long_months, short_months, max(start, FIRST_CURVE), end
        )
        found = liquidity.inversions(spreads, min_days=min_days)
        nodes = [
            CurveInversion(
                start=i.start,
                end=i.end,
                days=i.days,
                deepest_spread=i.deepest,
                deepest_date=i.deepest_date,
                average_spread=i.average,
                ongoing=i.ongoing,
            )
            for i in found
        ]
        return paginate(nodes, first, after)


def _window(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    first, last = start or dt.date(1970, 1, 1), end or LATEST
    if first > last:
        raise BadUserInput(f"`from` ({first}) is after `to` ({last}): swap them.", argument="from")
    return first, last
