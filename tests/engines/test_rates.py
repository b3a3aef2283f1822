"""Rates engines: bootstrap identities, Nelson-Siegel(-Svensson) fits on real Treasury data."""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import NonFiniteInputError, ParameterRangeError, ShapeMismatchError
from engines.rates import (
    bootstrap_par_curve,
    fit_nelson_siegel,
    fit_nelson_siegel_svensson,
    forward_rates,
    nelson_siegel_svensson_forwards,
    nelson_siegel_svensson_yields,
    zero_rates,
)

from .conftest import TREASURY_TENORS


def test_bootstrap_reprices_every_par_bond() -> None:
    rng = np.random.default_rng(5)
    tenors = np.array([0.5, 1, 2, 3, 5, 7, 10, 20, 30], dtype=np.float64)
    par = 0.03 + 0.02 * rng.uniform(size=(50, tenors.size))
    curve = bootstrap_par_curve(par_yields=par, tenors=tenors)
    df = np.asarray(curve.discount_factors)
    grid_par = np.stack([np.interp(np.asarray(curve.times), tenors, row) for row in par])
    annuity = np.cumsum(df, axis=1) / 2
    np.testing.assert_allclose(grid_par * annuity + df, 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(curve.zero_rates, -np.log(df) / np.asarray(curve.times), rtol=1e-14)


def test_bootstrap_float32() -> None:
    curve = bootstrap_par_curve(
        par_yields=np.full(4, 0.05, np.float32), tenors=np.array([0.5, 1, 2, 5], np.float32)
    )
    assert curve.discount_factors.dtype == np.float32
    # A flat 5% semiannual par curve discounts at (1 + 0.025)^(-2t).
    np.testing.assert_allclose(
        curve.discount_factors, 1.025 ** (-2 * np.asarray(curve.times)), rtol=1e-5
    )


def test_forward_and_zero_rates_consistent() -> None:
    times = np.array([0.5, 1.0, 2.0, 5.0])
    z = np.array([0.02, 0.025, 0.03, 0.035])
    df = np.exp(-z * times)
    fwd = np.asarray(forward_rates(times=times, discount_factors=df))
    np.testing.assert_allclose(np.cumsum(fwd * np.diff(np.r_[0, times])) / times, z, rtol=1e-13)
    np.testing.assert_allclose(zero_rates(times=times, discount_factors=df), z, rtol=1e-13)


def test_nss_forward_is_derivative_of_t_times_yield() -> None:
    p = np.array([0.04, -0.02, 0.015, -0.01, 1.3, 7.0])
    t = np.linspace(0.1, 30, 50)
    h = 1e-5
    ty = lambda s: s * np.asarray(nelson_siegel_svensson_yields(times=s, parameters=p))  # noqa: E731
    numeric = (ty(t + h) - ty(t - h)) / (2 * h)
    np.testing.assert_allclose(
        nelson_siegel_svensson_forwards(times=t, parameters=p), numeric, rtol=1e-8
    )


def test_fits_recover_synthetic_curves() -> None:
    rng = np.random.default_rng(9)
    true = np.column_stack(
        [
            rng.uniform(0.03, 0.06, 20),
            rng.uniform(-0.03, 0.01, 20),
            rng.uniform(-0.02, 0.02, 20),
            rng.uniform(-0.02, 0.02, 20),
            rng.uniform(0.5, 2.0, 20),
            rng.uniform(5.0, 15.0, 20),
        ]
    )
    yields = np.asarray(nelson_siegel_svensson_yields(times=TREASURY_TENORS, parameters=true))
    fit = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=yields)
    # Most curves are recovered exactly; a few stop in a flat valley within 0.5 bp.
    assert float(np.median(fit.rmse)) < 1e-8
    assert float(np.max(fit.rmse)) < 5e-5
    ns = fit_nelson_siegel(times=TREASURY_TENORS, yields=yields)
    assert ns.parameters.shape == (20, 4)
    assert np.all(np.asarray(ns.rmse) >= np.asarray(fit.rmse) - 1e-12)
    fit32 = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=yields.astype(np.float32))
    assert fit32.parameters.dtype == np.float32
    assert float(np.percentile(fit32.rmse, 90)) < 2e-5


def test_nss_fit_on_real_treasury_curves(treasury_par_yields) -> None:
    _, par = treasury_par_yields
    assert par.shape[0] > 8000
    fit = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=par)
    rmse_bp = np.asarray(fit.rmse) * 1e4
    assert np.all(np.isfinite(rmse_bp))
    np.testing.assert_array_equal(fit.num_observations, np.sum(~np.isnan(par), axis=1))
    # All 13 tenors, measured: 90.6% of dates under 5 bp, median 2.43 bp.  This is the
    # model's limit, not the optimiser's: the best point of an exhaustive 100 x 100 log grid
    # of (tau1, tau2) in [0.01, 100] years with exact betas reaches 90.45%.  Most misses
    # are the 20-year anomaly (1998-2002, 2022-23: the 20-year yield above both the 10- and
    # the 30-year), which no smooth four-factor curve follows; bill-market dislocations
    # (2008) make most of the rest.
    assert np.median(rmse_bp) < 2.5
    assert np.mean(rmse_bp < 5.0) > 0.904
    # Without the 20-year point (weight 0), measured: 97.2% under 5 bp, median 1.62 bp.
    no_20y = np.where(TREASURY_TENORS == 20, 0.0, 1.0)
    fit12 = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=par, weights=no_20y)
    rmse12_bp = np.asarray(fit12.rmse) * 1e4
    np.testing.assert_array_equal(
        fit12.num_observations, np.sum(~np.isnan(par[:, TREASURY_TENORS != 20]), axis=1)
    )
    assert np.mean(rmse12_bp < 5.0) >= 0.95
    assert np.median(rmse12_bp) < 1.8


def test_nss_more_starts_never_fit_worse(treasury_par_yields) -> None:
    _, par = treasury_par_yields
    curves = par[::8]
    one = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=curves, num_starts=1)
    three = fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=curves, num_starts=3)
    # The best grid minimum is always among the starts, so extra starts can only help
    # (up to rounding); measured: a 1% lower error on a quarter of these dates.
    assert np.all(np.asarray(three.rmse) <= np.asarray(one.rmse) * (1 + 1e-6))
    assert np.mean(np.asarray(three.rmse) < np.asarray(one.rmse) * 0.99) > 0.1


def test_validation() -> None:
    with pytest.raises(ShapeMismatchError):
        bootstrap_par_curve(par_yields=np.ones(3), tenors=np.ones(4))
    with pytest.raises(NonFiniteInputError):
        bootstrap_par_curve(par_yields=np.array([0.01, np.nan]), tenors=np.array([1.0, 2.0]))
    with pytest.raises(ParameterRangeError):
        fit_nelson_siegel_svensson(times=TREASURY_TENORS, yields=np.ones(13), num_starts=0)
    with pytest.raises(ParameterRangeError):
        fit_nelson_siegel(times=TREASURY_TENORS, yields=np.ones(13), num_starts=25)
