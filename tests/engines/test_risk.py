"""Risk engines vs NumPy/SciPy, closed-form VaR/ES for the Monte Carlo, limits, real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from engines.errors import NonPositiveValueError, ParameterRangeError, ShapeMismatchError
from engines.risk import (
    capm_regressions,
    correlation_matrices,
    covariance_matrices,
    drawdowns,
    historical_var,
    log_returns,
    monte_carlo_var,
    rolling_volatility,
    simple_returns,
)

from .conftest import SHARED_DATA


def random_prices(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, shape), axis=-1))


def numpy_tail(losses: np.ndarray, level: float) -> tuple[float, float]:
    var = np.percentile(losses, 100 * level)
    return float(var), float(losses[losses >= var].mean())


def test_returns_match_numpy() -> None:
    p = random_prices((3, 200), seed=1)
    np.testing.assert_allclose(simple_returns(prices=p), p[:, 1:] / p[:, :-1] - 1, rtol=1e-14)
    np.testing.assert_allclose(log_returns(prices=p), np.diff(np.log(p), axis=-1), atol=1e-15)
    r32 = log_returns(prices=p.astype(np.float32))
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, np.diff(np.log(p), axis=-1), atol=1e-6)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_rolling_volatility_matches_numpy(dtype: type, rtol: float) -> None:
    r = np.diff(np.log(random_prices((2, 3, 600), seed=2)), axis=-1)
    vol = rolling_volatility(returns=r.astype(dtype), window=21)
    expected = np.std(sliding_window_view(r, 21, axis=-1), axis=-1, ddof=1) * np.sqrt(252)
    assert vol.shape == (2, 3, 599 - 20) and vol.dtype == dtype
    np.testing.assert_allclose(vol, expected, rtol=rtol)
    population = rolling_volatility(returns=r, window=5, periods_per_year=1.0, ddof=0)
    expected0 = np.std(sliding_window_view(r, 5, axis=-1), axis=-1)
    np.testing.assert_allclose(population, expected0, rtol=1e-10)


def test_rolling_volatility_limits() -> None:
    flat_prices = np.full(50, 42.0)
    vol = rolling_volatility(returns=simple_returns(prices=flat_prices), window=10)
    np.testing.assert_array_equal(vol, 0.0)
    # Constant non-zero returns (steady growth): exactly zero too, not rounding noise.
    steady = rolling_volatility(returns=np.full((2, 30), 0.1), window=7)
    np.testing.assert_array_equal(steady, 0.0)
    # A series that is flat, then moves: zero only where the window is flat; never NaN.
    mixed = rolling_volatility(returns=np.r_[np.zeros(10), 0.01, -0.01, 0.02], window=3)
    assert np.all(np.isfinite(mixed)) and np.all(np.asarray(mixed[:8]) == 0.0)
    assert np.all(np.asarray(mixed[9:]) > 0)
    with pytest.raises(ParameterRangeError, match="series length"):
        rolling_volatility(returns=np.zeros(20), window=21)
    with pytest.raises(ParameterRangeError):
        rolling_volatility(returns=np.zeros(20), window=1)
    with pytest.raises(ShapeMismatchError):
        simple_returns(prices=np.ones(1))
    with pytest.raises(NonPositiveValueError):
        log_returns(prices=np.array([1.0, 0.0, 2.0]))


def test_drawdowns_match_numpy() -> None:
    p = random_prices((4, 1000), seed=3)
    d = drawdowns(prices=p)
    peak = np.maximum.accumulate(p, axis=-1)
    np.testing.assert_allclose(d.drawdowns, p / peak - 1, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(d.max_drawdowns, -np.min(p / peak - 1, axis=-1), rtol=1e-14)
    trough = np.argmin(p / peak - 1, axis=-1)
    np.testing.assert_array_equal(d.trough_indices, trough)
    np.testing.assert_array_equal(
        d.peak_indices, [np.argmax(row[: t + 1]) for row, t in zip(p, trough, strict=True)]
    )
    rising = drawdowns(prices=np.arange(1.0, 11.0))
    np.testing.assert_array_equal(rising.drawdowns, 0.0)
    assert float(rising.max_drawdowns) == 0.0


def test_covariance_and_correlation_match_numpy() -> None:
    rng = np.random.default_rng(4)
    mix = rng.normal(size=(5, 5))
    r = np.einsum("ij,bjt->bit", mix, rng.normal(size=(3, 5, 400))) * 0.01
    np.testing.assert_allclose(covariance_matrices(returns=r), [np.cov(x) for x in r], rtol=1e-12)
    corr = correlation_matrices(returns=r)
    np.testing.assert_allclose(corr, [np.corrcoef(x) for x in r], rtol=1e-12, atol=1e-15)
    corr32 = correlation_matrices(returns=r.astype(np.float32))
    np.testing.assert_allclose(corr32, [np.corrcoef(x) for x in r], atol=1e-5)
    # A constant asset: np.corrcoef gives NaN; here 0 off the diagonal, 1 on it.
    with_cash = np.vstack([r[0], np.full(400, 0.1)])
    c = np.asarray(correlation_matrices(returns=with_cash))
    assert np.all(np.isfinite(c))
    np.testing.assert_array_equal(c[-1], np.r_[np.zeros(5), 1.0])
    np.testing.assert_allclose(c[:5, :5], np.corrcoef(r[0]), rtol=1e-12, atol=1e-15)


def check_against_linregress(x: np.ndarray, y: np.ndarray, result, i: int) -> None:
    ref = stats.linregress(x, y)
    got = {k: float(getattr(result, k)[i]) for k in result._fields}
    np.testing.assert_allclose(got["betas"], ref.slope, rtol=1e-10)
    np.testing.assert_allclose(got["alphas"], ref.intercept, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got["beta_standard_errors"], ref.stderr, rtol=1e-10)
    np.testing.assert_allclose(got["alpha_standard_errors"], ref.intercept_stderr, rtol=1e-10)
    np.testing.assert_allclose(got["r_squared"], ref.rvalue**2, rtol=1e-10)
    np.testing.assert_allclose(got["beta_t_stats"], ref.slope / ref.stderr, rtol=1e-10)
    np.testing.assert_allclose(
        got["alpha_t_stats"], ref.intercept / ref.intercept_stderr, rtol=1e-9
    )


def test_capm_matches_scipy_linregress() -> None:
    rng = np.random.default_rng(5)
    market = rng.normal(0.0004, 0.01, 750)
    rf = np.full(750, 0.0001)
    betas = np.array([0.5, 1.0, 1.8, -0.3])
    assets = 0.0002 + rf + betas[:, None] * (market - rf) + rng.normal(0, 0.01, (4, 750))
    result = capm_regressions(asset_returns=assets, market_returns=market, risk_free_rates=rf)
    for i in range(4):
        check_against_linregress(market - rf, assets[i] - rf, result, i)
    r32 = capm_regressions(asset_returns=assets.astype(np.float32), market_returns=market)
    ref = capm_regressions(asset_returns=assets, market_returns=market)
    np.testing.assert_allclose(r32.betas, ref.betas, rtol=1e-4)


def test_capm_limits_are_finite_or_infinite_never_nan() -> None:
    flat_market = capm_regressions(
        asset_returns=np.array([0.01, 0.02, 0.03, 0.0]), market_returns=np.full(4, 0.001)
    )
    assert float(flat_market.betas) == 0.0 and np.isinf(flat_market.beta_standard_errors)
    assert float(flat_market.beta_t_stats) == 0.0
    np.testing.assert_allclose(flat_market.alphas, 0.015 - 0.0)
    m = np.array([0.01, -0.02, 0.03, 0.0])
    perfect = capm_regressions(asset_returns=2 * m, market_returns=m)
    assert float(perfect.betas) == pytest.approx(2.0)
    assert np.isinf(perfect.beta_t_stats) and float(perfect.r_squared) == pytest.approx(1.0)
    for field in perfect:
        assert not np.any(np.isnan(field))
    with pytest.raises(ShapeMismatchError):
        capm_regressions(asset_returns=np.zeros(2), market_returns=np.zeros(2))


def test_historical_var_matches_percentile() -> None:
    rng = np.random.default_rng(6)
    returns = rng.standard_t(4, size=(5, 1500)) * 0.01
    weights = rng.dirichlet(np.ones(5), size=(2, 3))
    for level in (0.95, 0.99, 0.999):
        m = historical_var(returns=returns, weights=weights, confidence_level=level)
        assert m.value_at_risk.shape == (2, 3)
        for idx in np.ndindex(2, 3):
            var, es = numpy_tail(-(weights[idx] @ returns), level)
            np.testing.assert_allclose(m.value_at_risk[idx], var, rtol=1e-12)
            np.testing.assert_allclose(m.expected_shortfall[idx], es, rtol=1e-12)
    m32 = historical_var(returns=returns.astype(np.float32), weights=weights.astype(np.float32))
    np.testing.assert_allclose(
        m32.value_at_risk,
        historical_var(returns=returns, weights=weights).value_at_risk,
        rtol=1e-4,
    )
    with pytest.raises(ParameterRangeError):
        historical_var(returns=returns, weights=weights, confidence_level=1.0)


COV = np.array([[4.0e-4, 1.2e-4, 0.5e-4], [1.2e-4, 9.0e-4, -1.0e-4], [0.5e-4, -1.0e-4, 2.5e-4]])
MEANS = np.array([0.0005, 0.0010, 0.0002])


def closed_form(weights: np.ndarray, level: float, nu: float | None) -> tuple[float, float]:
    mean = float(weights @ MEANS)
    sigma = float(np.sqrt(weights @ COV @ weights))
    if nu is None:
        z = stats.norm.ppf(level)
        return -mean + sigma * z, -mean + sigma * stats.norm.pdf(z) / (1 - level)
    scale = sigma * np.sqrt((nu - 2) / nu)
    q = stats.t.ppf(level, nu)
    es = stats.t.pdf(q, nu) / (1 - level) * (nu + q * q) / (nu - 1)
    return -mean + scale * q, -mean + scale * es


@pytest.mark.parametrize("nu", [None, 4.0, 8.0])
def test_monte_carlo_var_matches_closed_form_within_3_standard_errors(nu: float | None) -> None:
    weights = np.array([[0.5, 0.3, 0.2], [1.0, -0.5, 0.5], [0.0, 0.0, 1.0]])
    level = 0.99
    m = monte_carlo_var(
        means=MEANS,
        covariances=COV,
        weights=weights,
        confidence_level=level,
        num_samples=400_000,
        degrees_of_freedom=nu,
        seed=7,
    )
    for i, w in enumerate(weights):
        var, es = closed_form(w, level, nu)
        assert abs(float(m.value_at_risk[i]) - var) < 3 * float(m.var_standard_errors[i])
        assert abs(float(m.expected_shortfall[i]) - es) < 3 * float(m.es_standard_errors[i])
        # Stated tolerance: with 400k draws both are within 1.5% of the exact value.
        assert abs(float(m.value_at_risk[i]) / var - 1) < 0.015
        assert abs(float(m.expected_shortfall[i]) / es - 1) < 0.015


def test_monte_carlo_var_is_reproducible_and_handles_singular_covariances() -> None:
    kw: dict[str, Any] = {"means": MEANS, "covariances": COV, "weights": np.array([0.4, 0.4, 0.2])}
    a = monte_carlo_var(**kw, num_samples=10_000, seed=3)
    b = monte_carlo_var(**kw, num_samples=10_000, seed=3)
    c = monte_carlo_var(**kw, num_samples=10_000, seed=4)
    assert float(a.value_at_risk) == float(b.value_at_risk) != float(c.value_at_risk)
    # Cash (zero variance) and a duplicated asset make the covariance singular.
    cov = np.zeros((4, 4))
    cov[:3, :3] = COV
    cov[3, :3] = cov[:3, 3] = COV[0]
    cov[3, 3] = COV[0, 0]
    cov5 = np.pad(cov, ((0, 1), (0, 1)))
    w = np.array([0.2, 0.3, 0.1, 0.2, 0.2])
    m = monte_carlo_var(
        means=np.r_[MEANS, MEANS[0], 0.0],
        covariances=cov5,
        weights=w,
        num_samples=400_000,
        seed=5,
    )
    merged = np.array([0.4, 0.3, 0.1])
    var, es = closed_form(merged, 0.99, None)
    assert abs(float(m.value_at_risk) - var) < 3 * float(m.var_standard_errors)
    assert abs(float(m.expected_shortfall) - es) < 3 * float(m.es_standard_errors)
    bad = COV.copy()
    bad[0, 1] = bad[1, 0] = 1e-3  # |rho| > 1
    with pytest.raises(NonPositiveValueError):
        monte_carlo_var(means=MEANS, covariances=bad, weights=np.ones(3) / 3)
    with pytest.raises(ParameterRangeError):
        monte_carlo_var(**kw, degrees_of_freedom=2.0)


def read_closes(path: Path) -> dict[str, float]:
    lines = path.read_text().strip().splitlines()[1:]
    column = 1 if path.name.startswith("XL") else 4
    out = {}
    for line in lines:
        cells = line.split(",")
        if cells[column] not in ("", "null"):
            out[cells[0]] = float(cells[column])
    return out


def aligned(*names: str) -> np.ndarray:
    paths = [next(SHARED_DATA.glob(f"*/{name}.csv")) for name in names]
    series = [read_closes(p) for p in paths]
    dates = sorted(set.intersection(*(set(s) for s in series)))
    return np.array([[s[d] for d in dates] for s in series])


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real market data not found at {SHARED_DATA} (expected ../shared/data)")
    return SHARED_DATA


def test_crypto_vol_drawdown_and_correlation_on_real_closes(shared_data) -> None:
    closes = aligned("BTC-USD", "ETH-USD")
    assert closes.shape[1] > 1800
    r = np.diff(np.log(closes), axis=-1)
    np.testing.assert_allclose(log_returns(prices=closes), r, atol=1e-14)
    vol = rolling_volatility(returns=r, window=30, periods_per_year=365)
    expected = np.std(sliding_window_view(r, 30, axis=-1), axis=-1, ddof=1) * np.sqrt(365)
    np.testing.assert_allclose(vol, expected, rtol=1e-10)
    np.testing.assert_allclose(correlation_matrices(returns=r), np.corrcoef(r), rtol=1e-12)
    d = drawdowns(prices=closes)
    peak = np.maximum.accumulate(closes, axis=-1)
    np.testing.assert_allclose(d.max_drawdowns, -np.min(closes / peak - 1, axis=-1), rtol=1e-14)
    # Both fell by more than 75% from a peak in this window (2017-11 to 2022-11).
    assert np.all(np.asarray(d.max_drawdowns) > 0.75)


def test_meme_stock_capm_on_real_closes(shared_data) -> None:
    closes = aligned("GME", "NASDAQ")
    assert closes.shape[1] > 700
    r = closes[:, 1:] / closes[:, :-1] - 1
    result = capm_regressions(asset_returns=r[:1], market_returns=r[1])
    check_against_linregress(r[1], r[0], result, 0)
    # GME's 2021 squeeze: most of its variance is not explained by the market.
    assert float(result.r_squared[0]) < 0.2


def test_sector_etf_historical_var_on_real_closes(shared_data) -> None:
    names = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
    closes = aligned(*names)
    r = np.asarray(simple_returns(prices=closes))
    weights = np.stack([np.full(9, 1 / 9), np.eye(9)[4]])
    m = historical_var(returns=r, weights=weights, confidence_level=0.99)
    for i, w in enumerate(weights):
        var, es = numpy_tail(-(w @ r), 0.99)
        np.testing.assert_allclose(m.value_at_risk[i], var, rtol=1e-12)
        np.testing.assert_allclose(m.expected_shortfall[i], es, rtol=1e-12)
    # Diversification: the equal-weight book's VaR is below the single sector's.
    assert float(m.value_at_risk[0]) < float(m.value_at_risk[1])
