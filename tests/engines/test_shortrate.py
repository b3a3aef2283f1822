"""Short-rate models: analytic bonds vs QuantLib, Monte Carlo vs analytic within 3 SE."""

from __future__ import annotations

import numpy as np
import pytest
import QuantLib as ql  # noqa: N813

from engines.errors import ParameterRangeError
from engines.shortrate import (
    cir_bond_prices,
    cir_paths,
    hull_white_bond_prices,
    hull_white_paths,
    monte_carlo_bond_prices,
    vasicek_bond_prices,
    vasicek_paths,
)

TODAY = ql.Date(15, 1, 2024)


def test_vasicek_bonds_match_quantlib() -> None:
    rng = np.random.default_rng(1)
    n = 200
    a, b = rng.uniform(0.05, 1.0, n), rng.uniform(0.0, 0.08, n)
    sigma, r, tau = rng.uniform(0.001, 0.03, n), rng.uniform(-0.01, 0.08, n), rng.uniform(0, 30, n)
    ours = vasicek_bond_prices(
        mean_reversion=a, long_term_mean=b, volatilities=sigma, short_rates=r, maturities=tau
    )
    expected = [
        ql.Vasicek(r[i], a[i], b[i], sigma[i], 0.0).discountBond(0.0, tau[i], r[i])
        for i in range(n)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_cir_bonds_match_quantlib() -> None:
    rng = np.random.default_rng(2)
    n = 100
    a, b = rng.uniform(0.1, 1.0, n), rng.uniform(0.01, 0.08, n)
    sigma = np.sqrt(2 * a * b) * rng.uniform(0.1, 0.95, n)  # QuantLib requires Feller
    r, tau = rng.uniform(0.0, 0.08, n), rng.uniform(0, 30, n)
    ours = cir_bond_prices(
        mean_reversion=a, long_term_mean=b, volatilities=sigma, short_rates=r, maturities=tau
    )
    expected = [
        ql.CoxIngersollRoss(r[i], b[i], a[i], sigma[i]).discountBond(0.0, tau[i], r[i])
        for i in range(n)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_hull_white_bonds_match_quantlib() -> None:
    ql.Settings.instance().evaluationDate = TODAY
    rng = np.random.default_rng(3)
    for _ in range(20):
        rate, a, sigma = rng.uniform(0.0, 0.07), rng.uniform(0.02, 0.5), rng.uniform(0.002, 0.02)
        curve = ql.YieldTermStructureHandle(
            ql.FlatForward(TODAY, rate, ql.Actual365Fixed(), ql.Continuous)
        )
        model = ql.HullWhite(curve, a, sigma)
        t, tenor, r = rng.uniform(0, 10, 5), rng.uniform(0, 20, 5), rng.uniform(-0.01, 0.1, 5)
        ours = hull_white_bond_prices(
            mean_reversion=a,
            volatility=sigma,
            curve_times=np.array([0.0, 50.0]),
            zero_rates=np.array([rate, rate]),
            times=t,
            maturities=t + tenor,
            short_rates=r,
        )
        expected = [model.discountBond(t[i], t[i] + tenor[i], r[i]) for i in range(5)]
        np.testing.assert_allclose(ours, expected, rtol=1e-10)


def _assert_within_3_se(estimate, analytic, indices) -> None:
    values, se = np.asarray(estimate.values), np.asarray(estimate.standard_errors)
    z = np.abs(values[indices] - np.asarray(analytic)[indices]) / se[indices]
    assert np.all(z < 3.0), z


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vasicek_monte_carlo_vs_analytic(dtype) -> None:
    paths = vasicek_paths(
        mean_reversion=0.3,
        long_term_mean=0.05,
        volatility=0.02,
        initial_rate=0.03,
        horizon=5.0,
        num_steps=200,
        num_paths=20000,
        seed=7,
        dtype=dtype,
    )
    assert paths.rates.dtype == dtype
    estimate = monte_carlo_bond_prices(paths)
    analytic = vasicek_bond_prices(
        mean_reversion=0.3,
        long_term_mean=0.05,
        volatilities=0.02,
        short_rates=0.03,
        maturities=np.asarray(paths.times[1:]),
    )
    _assert_within_3_se(estimate, analytic, [79, 119, 159, 199])


def test_hull_white_monte_carlo_reprices_initial_curve() -> None:
    # Linear zero curve: f(0, t) is linear, so the trapezoidal integral adds no bias.
    curve_times = np.array([0.0, 30.0])
    zero = np.array([0.03, 0.045])
    paths = hull_white_paths(
        mean_reversion=0.1,
        volatility=0.01,
        curve_times=curve_times,
        zero_rates=zero,
        horizon=10.0,
        num_steps=240,
        num_paths=20000,
        seed=11,
    )
    estimate = monte_carlo_bond_prices(paths)
    t = np.asarray(paths.times[1:])
    market = np.exp(-np.interp(t, curve_times, zero) * t)
    _assert_within_3_se(estimate, market, [71, 119, 179, 239])


def test_cir_monte_carlo_vs_analytic() -> None:
    paths = cir_paths(
        mean_reversion=0.5,
        long_term_mean=0.04,
        volatility=0.1,
        initial_rate=0.03,
        horizon=5.0,
        num_steps=500,
        num_paths=20000,
        seed=3,
    )
    assert bool((paths.rates >= 0).all())
    estimate = monte_carlo_bond_prices(paths)
    analytic = cir_bond_prices(
        mean_reversion=0.5,
        long_term_mean=0.04,
        volatilities=0.1,
        short_rates=0.03,
        maturities=np.asarray(paths.times[1:]),
    )
    _assert_within_3_se(estimate, analytic, [199, 299, 499])


def test_fixed_seed_is_reproducible_and_antithetic() -> None:
    kw = {
        "mean_reversion": 0.2,
        "long_term_mean": 0.04,
        "volatility": 0.01,
        "initial_rate": 0.04,
        "horizon": 1.0,
        "num_steps": 12,
        "num_paths": 8,
    }
    a, b = vasicek_paths(**kw, seed=5), vasicek_paths(**kw, seed=5)
    np.testing.assert_array_equal(a.rates, b.rates)
    assert not np.array_equal(a.rates, vasicek_paths(**kw, seed=6).rates)
    # With b == r0 the antithetic pair is symmetric about the mean.
    np.testing.assert_allclose(a.rates[:4] + a.rates[4:], 0.08, rtol=1e-12)
    with pytest.raises(ParameterRangeError):
        vasicek_paths(**{**kw, "num_paths": 7})
