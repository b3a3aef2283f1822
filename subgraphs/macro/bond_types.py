"""Fixed-rate bonds in GraphQL: analytics of a list of bonds, a portfolio under curve shocks."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.demand import assumed_size
from subgraphs.columns import FloatColumn
from subgraphs.macro import bonds
from subgraphs.macro.analytics import BondRequest, par_curve
from subgraphs.macro.curves import ZeroCurve
from subgraphs.macro.inputs import check_list, check_number, reject
from subgraphs.macro.loaders import MacroContext

MAX_BONDS = 10_000
FREQUENCIES = (1, 2, 4, 12)
STANDARD_KEYS = (0.25, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0)


@strawberry.input(description="A fixed-rate bullet bond, valued today (30/360-style periods).")
class FixedRateBondInput:
    coupon_percent: float = strawberry.field(
        description="Annual coupon rate, percent (5 = 5%), 0 to 100."
    )
    maturity_years: float = strawberry.field(
        description="Years to maturity, above 0 and at most 100."
    )
    frequency: int = strawberry.field(default=2, description="Coupons a year: 1, 2, 4 or 12.")
    face: float = strawberry.field(
        default=100.0, description="Face (redemption) amount, in currency units, above 0."
    )
    yield_percent: float | None = strawberry.field(
        default=None,
        description="Yield to maturity, percent, compounded `frequency` times a year; default "
        "null: priced on the Treasury zero curve of `curveDate` and the yield solved from it.",
    )


@strawberry.type(description="A fixed-rate bond's price and yield risk.")
class BondAnalytics:
    yield_percent: float = strawberry.field(
        description="Yield to maturity, percent, compounded `frequency` times a year."
    )
    dirty_price: float = strawberry.field(description="Price with accrued interest, face units.")
    clean_price: float = strawberry.field(description="Quoted price, face units.")
    accrued_interest: float = strawberry.field(description="Accrued coupon, face units.")
    modified_duration_years: float = strawberry.field(
        description="Modified duration -P'(y)/P, years (percent price change per 1% of yield)."
    )
    macaulay_duration_years: float = strawberry.field(
        description="Macaulay duration, years: the present-value-weighted time of the flows."
    )
    convexity: float = strawberry.field(description="Convexity P''(y)/P, years squared.")


def _bond(spec: FixedRateBondInput | BondPositionInput, argument: str, index: int) -> bonds.Bond:
    check_number(
        spec.coupon_percent, argument=argument, index=index, field="couponPercent", low=0, high=100
    )
    check_number(
        spec.maturity_years,
        argument=argument,
        index=index,
        field="maturityYears",
        low=0,
        high=100,
        low_open=True,
    )
    if spec.frequency not in FREQUENCIES:
        reject(
            f"`{argument}[{index}].frequency` is {spec.frequency}: use 1, 2, 4 or 12.",
            argument=argument,
            index=index,
            field="frequency",
        )
    check_number(
        spec.face, argument=argument, index=index, field="face", low=0, high=1e12, low_open=True
    )
    return bonds.Bond(spec.coupon_percent / 100, spec.maturity_years, spec.frequency, spec.face)


async def curve_on(info: Info[MacroContext, None], day: dt.date, argument: str) -> ZeroCurve:
    """The zero curve of `day` (or the last business day before it), or BAD_USER_INPUT."""
    record = await info.context.par_curves.load(day)
    if record is None:
        reject(f"No Treasury curve on or before {day}: the first is 1990-01-02.", argument=argument)
    curve: ZeroCurve = await info.context.analytics.zero_curves.load(par_curve(record))
    return curve


@strawberry.input(description="A holding of a fixed-rate bullet bond.")
class BondPositionInput:
    coupon_percent: float = strawberry.field(
        description="Annual coupon rate, percent (5 = 5%), 0 to 100."
    )
    maturity_years: float = strawberry.field(
        description="Years to maturity, above 0 and at most 100."
    )
    quantity: float = strawberry.field(description="Number of bonds held; negative for a short.")
    frequency: int = strawberry.field(default=2, description="Coupons a year: 1, 2, 4 or 12.")
    face: float = strawberry.field(
        default=100.0, description="Face amount of one bond, in currency units, above 0."
    )


@strawberry.input(description="A shock scenario of your own, given at the key tenors.")
class CurveShockInput:
    name: str = strawberry.field(description="A name to find the scenario by in the answer.")
    shocks_bp: list[float] = strawberry.field(
        description="The shock at each key tenor, basis points, as many as `keyTenors`; "
        "interpolated linearly between keys and flat beyond them."
    )


@strawberry.type(description="The portfolio on a shocked zero curve.")
class CurveScenario:
    name: str = strawberry.field(
        description="parallel_up, parallel_down, steepener, flattener, short_up, short_down "
        "(Basel IRRBB), key_<tenor>y (one key tenor moved), or a custom scenario's name."
    )
    shocks_bp: FloatColumn = strawberry.field(
        description="The shock at each key tenor, basis points (parallel to `keyTenorsYears`)."
    )
    value: float = strawberry.field(
        description="Portfolio value on the shocked curve, currency units."
    )
    value_change: float = strawberry.field(
        description="Change from the base value, currency units."
    )
    value_change_percent: float | None = strawberry.field(
        description="Change from the base value, percent; null when the base value is 0."
    )
    position_value_changes: FloatColumn = strawberry.field(
        description="Each position's change, currency units, in the order given."
    )


@strawberry.type(
    description="A bond portfolio's value and key-rate risk on a day's Treasury curve."
)
class BondPortfolioScenarios:
    curve_date: dt.date = strawberry.field(description="The business day whose curve was used.")
    base_value: float = strawberry.field(
        description="Value on the unshocked zero curve (dirty prices times quantities), "
        "currency units."
    )
    key_tenors_years: FloatColumn = strawberry.field(description="The key tenors, years.")
    key_rate_durations: FloatColumn = strawberry.field(
        description="Key-rate durations of the portfolio, years, parallel to `keyTenorsYears`: "
        "percent value lost per 1% rise of the zero curve around that key."
    )
    effective_duration: float = strawberry.field(
        description="Sum of the key-rate durations: duration to a parallel zero-curve move, years."
    )
    position_key_rate_durations: list[FloatColumn] = strawberry.field(
        description="Key-rate durations of each position (rows, in the order given), years."
    )
    scenarios: list[CurveScenario] = strawberry.field(
        description="Every scenario, standard first.",
        directives=[assumed_size(12)],  # demand control: six standard, keys and your own
    )


def _key_tenors(keys: list[float]) -> list[float]:
    check_list(keys, argument="keyTenors", most=30)
    for index, key in enumerate(keys):
        check_number(key, argument="keyTenors", index=index, low=0, high=100)
        if index and key <= keys[index - 1]:
            reject(
                f"`keyTenors[{index}]` ({key:g}) is not above the one before: sort them, "
                "no repeats.",
                argument="keyTenors",
                index=index,
            )
    return keys


def _custom(shocks: list[CurveShockInput], keys: list[float]) -> list[tuple[str, list[float]]]:
    if len(shocks) > 100:
        reject(f"`customShocks` has {len(shocks)} scenarios: at most 100.", argument="customShocks")
    for index, shock in enumerate(shocks):
        if len(shock.shocks_bp) != len(keys):
            reject(
                f"`customShocks[{index}].shocksBp` has {len(shock.shocks_bp)} values for "
                f"{len(keys)} key tenors: give one per key tenor.",
                argument="customShocks",
                index=index,
                field="shocksBp",
            )
        for value in shock.shocks_bp:
            check_number(
                value, argument="customShocks", index=index, field="shocksBp", low=-5000, high=5000
            )
    return [(shock.name, shock.shocks_bp) for shock in shocks]


@strawberry.type
class BondQuery:
    # One engine call per request. @listSize cannot read an input list's length (slicing
    # arguments are integers), so the router assumes a typical book of 100 bonds.
    @strawberry.field(
        description="Price, yield, durations and convexity of each bond, in the order given: "
        "from its `yieldPercent`, or priced on the Treasury zero curve of `curveDate`. Null, "
        "with a BAD_USER_INPUT error naming the bond and field, if an input is invalid.",
        directives=[Cost(weight=10), assumed_size(100)],
    )
    async def bond_analytics(
        self,
        info: Info[MacroContext, None],
        bonds: Annotated[
            list[FixedRateBondInput], strawberry.argument(description=f"Up to {MAX_BONDS:,} bonds.")
        ],
        curve_date: Annotated[
            dt.date | None,
            strawberry.argument(
                description="The day whose Treasury curve prices bonds given without a yield "
                "(the last business day before it on a holiday)."
            ),
        ] = None,
    ) -> list[BondAnalytics] | None:
        check_list(bonds, argument="bonds", most=MAX_BONDS)
        requests = []
        for index, spec in enumerate(bonds):
            bond = _bond(spec, "bonds", index)
            if spec.yield_percent is None:
                if curve_date is None:
                    reject(
                        f"`bonds[{index}]` has no `yieldPercent`: give one, or a `curveDate`.",
                        argument="bonds",
                        index=index,
                        field="yieldPercent",
                    )
                requests.append(BondRequest(bond, None, curve_date))
            else:
                check_number(
                    spec.yield_percent,
                    argument="bonds",
                    index=index,
                    field="yieldPercent",
                    low=-100 * spec.frequency,
                    high=1000,
                    low_open=True,
                )
                requests.append(BondRequest(bond, spec.yield_percent / 100, None))
        if curve_date is not None and any(r.curve_date for r in requests):
            await curve_on(info, curve_date, "curveDate")
        figures = await info.context.analytics.bond_figures.load_many(requests)
        return [
            BondAnalytics(
                yield_percent=100 * f.yield_rate,
                dirty_price=f.dirty_price,
                clean_price=f.clean_price,
                accrued_interest=f.accrued_interest,
                modified_duration_years=f.modified_duration,
                macaulay_duration_years=f.macaulay_duration,
                convexity=f.convexity,
            )
            for f in figures
        ]

    # Batched: two engine calls.
    @strawberry.field(
        description="A bond portfolio valued on the Treasury zero curve of `curveDate` and under "
        "shocks: Basel IRRBB parallel up/down, steepener, flattener, short up/down, one "
        "scenario per key tenor and your own; with key-rate durations.",
        directives=[Cost(weight=20)],
    )
    async def bond_portfolio_scenarios(
        self,
        info: Info[MacroContext, None],
        positions: Annotated[
            list[BondPositionInput],
            strawberry.argument(description=f"The holdings, up to {MAX_BONDS:,}."),
        ],
        curve_date: Annotated[
            dt.date, strawberry.argument(description="The day whose Treasury curve values them.")
        ],
        key_tenors: Annotated[
            list[float] | None,
            strawberry.argument(
                description="Increasing key tenors in years (up to 30); default 3M, 1Y, 2Y, 3Y, "
                "5Y, 7Y, 10Y, 20Y, 30Y."
            ),
        ] = None,
        parallel_bp: Annotated[
            float, strawberry.argument(description="Parallel shock size, basis points (Basel USD).")
        ] = 200.0,
        short_bp: Annotated[
            float,
            strawberry.argument(description="Short-rate shock size, basis points (Basel USD)."),
        ] = 300.0,
        long_bp: Annotated[
            float,
            strawberry.argument(description="Long-rate shock size, basis points (Basel USD)."),
        ] = 150.0,
        key_bp: Annotated[
            float, strawberry.argument(description="Size of each one-key shock, basis points.")
        ] = 100.0,
        custom_shocks: Annotated[
            list[CurveShockInput] | None,
            strawberry.argument(description="Scenarios of your own (up to 100)."),
        ] = None,
    ) -> BondPortfolioScenarios | None:
        check_list(positions, argument="positions", most=MAX_BONDS)
        held = [_bond(spec, "positions", i) for i, spec in enumerate(positions)]
        for index, spec in enumerate(positions):
            check_number(
                spec.quantity,
                argument="positions",
                index=index,
                field="quantity",
                low=-1e12,
                high=1e12,
            )
        keys = _key_tenors(list(STANDARD_KEYS) if key_tenors is None else key_tenors)
        for name, size in (
            ("parallelBp", parallel_bp),
            ("shortBp", short_bp),
            ("longBp", long_bp),
            ("keyBp", key_bp),
        ):
            check_number(size, argument=name, low=-5000, high=5000)
        custom = _custom(custom_shocks or [], keys)
        curve = await curve_on(info, curve_date, "curveDate")
        report = await asyncio.to_thread(
            lambda: bonds.portfolio_scenarios(
                bonds=held,
                quantities=[p.quantity for p in positions],
                curve=curve,
                key_tenors=keys,
                sizes=bonds.ShockSizes(parallel_bp, short_bp, long_bp, key_bp),
                custom=custom,
            )
        )
        base = report.base_value
        return BondPortfolioScenarios(
            curve_date=curve.date,
            base_value=base,
            key_tenors_years=report.key_tenors.tolist(),
            key_rate_durations=report.key_rate_durations.tolist(),
            effective_duration=float(report.key_rate_durations.sum()),
            position_key_rate_durations=[
                FloatColumn(row) for row in report.position_key_rate_durations
            ],
            scenarios=[
                CurveScenario(
                    name=s.name,
                    shocks_bp=s.shocks_bp.tolist(),
                    value=s.value,
                    value_change=s.value_change,
                    value_change_percent=100 * s.value_change / base if base else None,
                    position_value_changes=s.position_value_changes.tolist(),
                )
                for s in report.scenarios
            ],
        )
