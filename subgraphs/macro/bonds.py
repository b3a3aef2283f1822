"""Fixed-rate bond analytics and portfolio curve scenarios, one engine call per batch.

Synchronous array work meant to run off the event loop. Rates are decimals, times years,
prices in the units of each bond's face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines import rates
from nexus.metrics import engine_call
from subgraphs.macro.curves import NODE_YEARS, ZeroCurve, pad_rows


@dataclass(frozen=True, slots=True)
class Bond:
    coupon_rate: float  # decimal, a year
    maturity: float  # years from the valuation date
    frequency: int  # coupons a year
    face: float


@dataclass(frozen=True, slots=True)
class BondFigures:
    yield_rate: float  # decimal, compounded `frequency` times a year
    dirty_price: float
    clean_price: float
    accrued_interest: float
    modified_duration: float  # years
    macaulay_duration: float  # years
    convexity: float  # years squared


def _terms(bonds: Sequence[Bond]) -> dict[str, np.ndarray]:
    return {
        "coupon_rates": np.asarray([b.coupon_rate for b in bonds], np.float64),
        "maturities": np.asarray([b.maturity for b in bonds], np.float64),
        "frequencies": np.asarray([b.frequency for b in bonds], np.float64),
        "faces": np.asarray([b.face for b in bonds], np.float64),
    }


@engine_call("bond_analytics")
def bond_figures(
    bonds: Sequence[Bond], yields: Sequence[float | None], curves: Sequence[ZeroCurve | None]
) -> list[BondFigures]:
    """Each bond from its yield, or (yield None) priced on its zero curve and its yield solved.

    At most four engine calls for the whole batch: curve prices and their yields for the
    curve-priced bonds, then prices and sensitivities of every bond from its yield.
    """
    count = len(bonds)
    terms = _terms(bonds)
    ytm = np.asarray([np.nan if y is None else y for y in yields], np.float64)
    on_curve = np.isnan(ytm)
    if on_curve.any():
        # Batches are padded to a few sizes (see curves.padded_size): one compilation each.
        rows = pad_rows(np.stack([c.node_zero_rates for c in curves if c is not None]))
        picked: dict[str, Any] = {
            name: pad_rows(values[on_curve]) for name, values in terms.items()
        }
        priced = rates.bond_prices_from_curve(curve_times=NODE_YEARS, zero_rates=rows, **picked)
        solved = rates.bond_yields(prices=priced.dirty_prices, clean=False, **picked)
        ytm[on_curve] = np.asarray(solved.yields, np.float64)[: int(on_curve.sum())]
    padded = {name: pad_rows(values) for name, values in terms.items()}
    prices = rates.bond_prices(yields=pad_rows(ytm), **padded)
    risk = rates.bond_sensitivities(yields=pad_rows(ytm), **padded)
    columns = zip(
        ytm,
        np.asarray(prices.dirty_prices)[:count],
        np.asarray(prices.clean_prices)[:count],
        np.asarray(prices.accrued_interest)[:count],
        np.asarray(risk.modified_durations)[:count],
        np.asarray(risk.macaulay_durations)[:count],
        np.asarray(risk.convexities)[:count],
        strict=True,
    )
    return [BondFigures(*map(float, row)) for row in columns]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    shocks_bp: np.ndarray  # [keys]
    value: float
    value_change: float
    position_value_changes: np.ndarray  # [positions]


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    base_value: float
    key_tenors: np.ndarray  # years
    key_rate_durations: np.ndarray  # [keys] years, value-weighted over the portfolio
    position_key_rate_durations: np.ndarray  # [positions, keys]
    scenarios: list[Scenario]


@dataclass(frozen=True, slots=True)
class ShockSizes:
    parallel_bp: float
    short_bp: float
    long_bp: float
    key_bp: float


@engine_call("bond_portfolio_shocks")
def portfolio_scenarios(
    *,
    bonds: Sequence[Bond],
    quantities: Sequence[float],
    curve: ZeroCurve,
    key_tenors: Sequence[float],
    sizes: ShockSizes,
    custom: Sequence[tuple[str, Sequence[float]]],
) -> ScenarioReport:
    """The portfolio under the Basel IRRBB scenarios, one tent per key and the caller's own
    shocks: one valuation call for every scenario and one key-rate-duration call."""
    keys = np.asarray(key_tenors, np.float64)
    standard = rates.standard_curve_shocks(
        key_tenors=keys,
        parallel_bp=sizes.parallel_bp,
        short_bp=sizes.short_bp,
        long_bp=sizes.long_bp,
        key_bp=sizes.key_bp,
    )
    names = [*standard.names, *(name for name, _ in custom)]
    shocks = np.asarray(standard.shocks_bp, np.float64)
    if custom:
        shocks = np.concatenate([shocks, np.asarray([s for _, s in custom], np.float64)])
    portfolio = {
        "key_tenors": keys,
        "curve_times": NODE_YEARS,
        "zero_rates": curve.node_zero_rates,
        "quantities": np.asarray(quantities, np.float64),
        **_terms(bonds),
    }
    valued = rates.shocked_portfolio_values(shocks_bp=shocks, **portfolio)
    durations = rates.key_rate_durations(**portfolio)
    values = np.asarray(valued.shocked_values)
    changes = np.asarray(valued.value_changes)
    per_position = np.asarray(valued.bond_value_changes)
    return ScenarioReport(
        base_value=float(valued.base_value),
        key_tenors=keys,
        key_rate_durations=np.asarray(durations.portfolio, np.float64),
        position_key_rate_durations=np.asarray(durations.bonds, np.float64),
        scenarios=[
            Scenario(name, shocks[i], float(values[i]), float(changes[i]), per_position[i])
            for i, name in enumerate(names)
        ],
    )
