"""Fixed-rate bonds vs QuantLib (the oracle), autodiff vs bumped prices, limits, validation.

Convention shared with QuantLib: valuation on 15 Jan 2024, maturities in whole months,
coupon schedules generated backward from maturity with regular periods, 30/360 (bond
basis) accrual and discounting, yields compounded at the coupon frequency.  Every cash-flow
time is then exactly ``months / 12``, so the two must agree to rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import QuantLib as ql  # noqa: N813

from engines.errors import NonPositiveValueError, ParameterRangeError
from engines.rates import (
    bond_prices,
    bond_prices_from_curve,
    bond_sensitivities,
    bond_yields,
)

SETTLE = ql.Date(15, 1, 2024)
DAY_COUNT = ql.Thirty360(ql.Thirty360.BondBasis)
QL_FREQUENCY = {1: ql.Annual, 2: ql.Semiannual, 4: ql.Quarterly, 12: ql.Monthly}


def random_bonds(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    months = rng.integers(1, 361, n)
    return {
        "months": months,
        "maturities": months / 12.0,
        "frequencies": rng.choice([1, 2, 4, 12], n),
        "coupon_rates": np.round(rng.uniform(0.0, 0.1, n), 4),
        "faces": rng.choice([25.0, 100.0, 1000.0], n),
        "yields": rng.uniform(0.005, 0.12, n),
    }


def quantlib_bond(months: int, frequency: int, coupon: float, face: float) -> ql.FixedRateBond:
    step = 12 // int(frequency)
    maturity = SETTLE + ql.Period(int(months), ql.Months)
    issue = maturity - ql.Period(math.ceil(int(months) / step) * step, ql.Months)
    schedule = ql.Schedule(
        issue,
        maturity,
        ql.Period(step, ql.Months),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        False,
    )
    return ql.FixedRateBond(0, float(face), schedule, [float(coupon)], DAY_COUNT)


def quantlib_analytics(g: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ql.Settings.instance().evaluationDate = SETTLE
    out: dict[str, list[float]] = {
        k: [] for k in ("clean", "accrued", "yield", "modified", "macaulay", "convexity")
    }
    for i in range(len(g["months"])):
        bond = quantlib_bond(
            g["months"][i], g["frequencies"][i], g["coupon_rates"][i], g["faces"][i]
        )
        freq = QL_FREQUENCY[int(g["frequencies"][i])]
        y = float(g["yields"][i])
        scale = g["faces"][i] / 100.0  # QuantLib quotes per 100 of face
        clean = ql.BondFunctions.cleanPrice(bond, y, DAY_COUNT, ql.Compounded, freq, SETTLE)
        out["clean"].append(clean * scale)
        out["accrued"].append(bond.accruedAmount(SETTLE) * scale)
        price = ql.BondPrice(clean, ql.BondPrice.Clean)
        out["yield"].append(
            ql.BondFunctions.bondYield(
                bond, price, DAY_COUNT, ql.Compounded, freq, SETTLE, 1e-14, 200
            )
        )
        for kind, key in ((ql.Duration.Modified, "modified"), (ql.Duration.Macaulay, "macaulay")):
            out[key].append(
                ql.BondFunctions.duration(bond, y, DAY_COUNT, ql.Compounded, freq, kind, SETTLE)
            )
        out["convexity"].append(
            ql.BondFunctions.convexity(bond, y, DAY_COUNT, ql.Compounded, freq, SETTLE)
        )
    return {k: np.array(x) for k, x in out.items()}


@pytest.fixture(scope="module")
def grid() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    g = random_bonds(300, seed=11)
    return g, quantlib_analytics(g)


def terms(g: dict[str, np.ndarray], dtype: type = np.float64) -> dict[str, Any]:
    return {k: g[k].astype(dtype) for k in ("coupon_rates", "maturities", "frequencies", "faces")}


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_prices_match_quantlib(grid, dtype: type, rtol: float) -> None:
    g, ref = grid
    p = bond_prices(yields=g["yields"].astype(dtype), **terms(g, dtype))
    assert p.clean_prices.dtype == dtype
    np.testing.assert_allclose(p.clean_prices, ref["clean"], rtol=rtol)
    np.testing.assert_allclose(p.dirty_prices, ref["clean"] + ref["accrued"], rtol=rtol)
    np.testing.assert_allclose(p.accrued_interest, ref["accrued"], rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_yields_match_quantlib(grid, dtype: type, rtol: float) -> None:
    g, ref = grid
    r = bond_yields(prices=ref["clean"].astype(dtype), **terms(g, dtype))
    assert bool(np.all(r.converged))
    np.testing.assert_allclose(r.yields, ref["yield"], rtol=rtol)
    np.testing.assert_allclose(ref["yield"], g["yields"], rtol=1e-10)
    dirty = bond_yields(prices=ref["clean"] + ref["accrued"], clean=False, **terms(g))
    np.testing.assert_allclose(dirty.yields, ref["yield"], rtol=1e-10)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_durations_and_convexity_match_quantlib(grid, dtype: type, rtol: float) -> None:
    g, ref = grid
    s = bond_sensitivities(yields=g["yields"].astype(dtype), **terms(g, dtype))
    np.testing.assert_allclose(s.modified_durations, ref["modified"], rtol=rtol)
    np.testing.assert_allclose(s.macaulay_durations, ref["macaulay"], rtol=rtol)
    np.testing.assert_allclose(s.convexities, ref["convexity"], rtol=rtol)


def test_autodiff_durations_match_bumped_prices(grid) -> None:
    g, _ = grid
    s = bond_sensitivities(yields=g["yields"], **terms(g))
    h = 1e-5

    def price(y: np.ndarray) -> np.ndarray:
        return np.asarray(bond_prices(yields=y, **terms(g)).dirty_prices)

    up, mid, down = price(g["yields"] + h), price(g["yields"]), price(g["yields"] - h)
    np.testing.assert_allclose(s.dirty_prices, mid, rtol=1e-14)
    np.testing.assert_allclose(s.modified_durations, -(up - down) / (2 * h) / mid, rtol=1e-6)
    # Second differences carry ~eps / h^2 = 2e-6 of rounding: an absolute floor.
    np.testing.assert_allclose(
        s.convexities, (up - 2 * mid + down) / h**2 / mid, rtol=1e-6, atol=1e-5
    )


def test_curve_prices_match_quantlib(grid) -> None:
    g, _ = grid
    rng = np.random.default_rng(3)
    node_months = np.array([0, 1, 3, 6, 12, 24, 36, 60, 84, 120, 240, 360])
    rates = 0.02 + 0.03 * rng.uniform(size=node_months.size)
    ql.Settings.instance().evaluationDate = SETTLE
    dates = [SETTLE + ql.Period(int(m), ql.Months) for m in node_months]
    curve = ql.ZeroCurve(
        dates, list(rates), DAY_COUNT, ql.NullCalendar(), ql.Linear(), ql.Continuous
    )
    engine = ql.DiscountingBondEngine(ql.YieldTermStructureHandle(curve))
    expected = []
    for i in range(len(g["months"])):
        bond = quantlib_bond(
            g["months"][i], g["frequencies"][i], g["coupon_rates"][i], g["faces"][i]
        )
        bond.setPricingEngine(engine)
        expected.append(bond.dirtyPrice() * g["faces"][i] / 100.0)
    p = bond_prices_from_curve(curve_times=node_months / 12.0, zero_rates=rates, **terms(g))
    np.testing.assert_allclose(p.dirty_prices, expected, rtol=1e-10)
    p32 = bond_prices_from_curve(
        curve_times=(node_months / 12.0).astype(np.float32),
        zero_rates=rates.astype(np.float32),
        **terms(g, np.float32),
    )
    assert p32.dirty_prices.dtype == np.float32
    np.testing.assert_allclose(p32.dirty_prices, expected, rtol=1e-4)


def test_flat_curve_equals_yield_pricing_and_batches_over_curves(grid) -> None:
    g, _ = grid
    z = np.array([0.01, 0.03, 0.07])
    times = np.array([0.0, 10.0, 30.0])
    flat = np.repeat(z[:, None], times.size, axis=1)[:, None, :]  # [3 curves, 1, nodes]
    p = bond_prices_from_curve(curve_times=times, zero_rates=flat, **terms(g))
    assert p.dirty_prices.shape == (3, len(g["months"]))
    f = g["frequencies"]
    y = f * np.expm1(z[:, None] / f)
    expected = bond_prices(yields=y, **terms(g)).dirty_prices
    np.testing.assert_allclose(p.dirty_prices, expected, rtol=1e-12)


def test_limit_cases() -> None:
    # Zero-coupon bond: F (1 + y/f)^(-f T); zero yield: the undiscounted sum of flows.
    p = bond_prices(yields=0.05, coupon_rates=0.0, maturities=10.0, frequencies=2, faces=100.0)
    np.testing.assert_allclose(p.clean_prices, 100 * 1.025**-20, rtol=1e-14)
    p0 = bond_prices(yields=0.0, coupon_rates=0.06, maturities=10.0)
    np.testing.assert_allclose(p0.clean_prices, 160.0, rtol=1e-14)
    s = bond_sensitivities(yields=0.05, coupon_rates=0.0, maturities=10.0)
    np.testing.assert_allclose(s.macaulay_durations, 10.0, rtol=1e-14)
    # A bond one day from maturity still prices, and its yield is recovered.
    short = bond_prices(yields=0.05, coupon_rates=0.04, maturities=1 / 360, frequencies=2)
    back = bond_yields(prices=short.clean_prices, coupon_rates=0.04, maturities=1 / 360)
    np.testing.assert_allclose(back.yields, 0.05, rtol=1e-9)
    # No yield in [-80%, +340%]: NaN and not converged, never an exception inside jit.
    r = bond_yields(prices=np.array([1e-6, 100.0, 1e9]), coupon_rates=0.05, maturities=10.0)
    assert np.isnan(r.yields[0]) and np.isnan(r.yields[2])
    np.testing.assert_array_equal(r.converged, [False, True, False])
    np.testing.assert_allclose(r.yields[1], 0.05, rtol=1e-12)


def test_validation() -> None:
    with pytest.raises(NonPositiveValueError):
        bond_prices(yields=0.05, coupon_rates=0.05, maturities=-1.0)
    with pytest.raises(ParameterRangeError):
        bond_prices(yields=0.05, coupon_rates=0.05, maturities=5.0, frequencies=2.5)
    with pytest.raises(ParameterRangeError):
        bond_prices(yields=-2.0, coupon_rates=0.05, maturities=5.0, frequencies=2)
    with pytest.raises(NonPositiveValueError):
        bond_yields(prices=0.0, coupon_rates=0.05, maturities=5.0)
    with pytest.raises(NonPositiveValueError):
        bond_prices(yields=0.05, coupon_rates=-0.01, maturities=5.0)
