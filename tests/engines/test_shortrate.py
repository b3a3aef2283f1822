"""Short-rate models: analytic bonds vs QuantLib, Monte Carlo vs analytic within 3 SE."""

from __future__ import annotations

import numpy as np
import pytest
import QuantLib as ql  # noqa: N813
from scipy.special import ndtri

from engines import _random
from engines.errors import ParameterRangeError
from engines.shortrate import (
    ShortRatePaths,
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


@pytest.mark.parametrize(
    ("key", "counter", "expected"),
    [  # Random123 known-answer vectors for Threefry-2x32-20
        ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
        ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
        ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
    ],
)
def test_threefry_matches_known_answers(key, counter, expected) -> None:
    words = _random.threefry2x32(
        np.array(key, np.uint32),
        np.array([counter[0]], np.uint32),
        np.array([counter[1]], np.uint32),
    )
    assert [int(w[0]) for w in words] == list(expected)


def test_threefry_is_jax_threefry_bit_for_bit() -> None:
    from jax.extend.random import threefry2x32_p

    rng = np.random.default_rng(4)
    key = rng.integers(0, 2**32, 4, dtype=np.uint32)
    x0, x1 = (rng.integers(0, 2**32, 5000, dtype=np.uint32) for _ in range(2))
    ours = _random.threefry2x32(key, x0, x1)
    theirs = threefry2x32_p.bind(key[0], key[1], x0, x1)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("dtype", "convert"),
    [
        (np.float32, lambda b: _random.normals_from_bits(b, np.float32)),
        (np.float64, lambda b: _random.normals_from_bits(b, np.float64)),
        (np.float32, _random.giles_normals),
    ],
)
def test_normals_are_finite_and_symmetric_at_the_extreme_bits(dtype, convert) -> None:
    bits_dtype = np.uint32 if dtype == np.float32 else np.uint64
    z = np.asarray(convert(np.array([0, np.iinfo(bits_dtype).max], bits_dtype)))
    assert z.dtype == dtype
    assert np.all(np.isfinite(z))
    assert z[0] == -z[1]
    assert 5.0 < z[1] < 9.0


def test_giles_normals_match_the_inverse_normal_cdf() -> None:
    bits = np.concatenate(
        [
            np.random.default_rng(0).integers(0, 2**32, 200_000, dtype=np.uint64),
            np.arange(0, 2**12) << 9,  # the extreme lower tail
            (2**32 - 1) - (np.arange(0, 2**12) << 9),  # and the upper
        ]
    ).astype(np.uint32)
    u = (2 * (bits >> 9).astype(np.float64) + 1) / 2**24
    z = np.asarray(_random.giles_normals(bits), np.float64)
    np.testing.assert_allclose(z, ndtri(u), rtol=1e-6, atol=2e-6)


def test_vasicek_paths_follow_the_exact_recursion_on_counter_normals() -> None:
    a, b, sigma, r0, horizon, steps = 0.4, 0.05, 0.02, 0.03, 2.0, 40
    paths = vasicek_paths(
        mean_reversion=a,
        long_term_mean=b,
        volatility=sigma,
        initial_rate=r0,
        horizon=horizon,
        num_steps=steps,
        num_paths=6,
        seed=9,
    )
    dt = horizon / steps
    decay, scale = np.exp(-a * dt), sigma * np.sqrt(-np.expm1(-2 * a * dt) / (2 * a))
    z = np.asarray(
        _random.counter_normals(_random.seed_keys(9, 1)[0], np.uint32(0), (3, 48), np.float64)
    )
    expected = np.empty((6, steps + 1))
    expected[:, 0] = r0
    for k in range(steps):
        drift = expected[:, k] * decay + b * (1 - decay)
        expected[:, k + 1] = drift + scale * np.concatenate([z[:, k], -z[:, k]])
    np.testing.assert_allclose(paths.rates, expected, rtol=1e-12, atol=1e-15)


def test_paths_of_a_row_do_not_depend_on_the_number_of_paths() -> None:
    # 2 x 1001 paths run in two overlapping chunks of rows, 2 x 1000 in one (ROW_CHUNK).
    kw = {
        "mean_reversion": 0.1,
        "volatility": 0.01,
        "curve_times": np.array([0.0, 10.0]),
        "zero_rates": np.array([0.03, 0.04], np.float32),
        "horizon": 5.0,
        "num_steps": 50,
        "seed": 4,
    }
    small = np.asarray(hull_white_paths(**kw, num_paths=2000).rates)
    large = np.asarray(hull_white_paths(**kw, num_paths=2002).rates)
    np.testing.assert_array_equal(large[:1000], small[:1000])
    np.testing.assert_array_equal(large[1001:2001], small[1000:])


@pytest.mark.parametrize(
    ("dtype", "rtol_values", "rtol_errors"), [(np.float64, 1e-12, 1e-8), (np.float32, 1e-6, 1e-4)]
)
@pytest.mark.parametrize(
    ("num_paths", "num_steps"), [(2002, 37), (8, 12), (6, 31), (10, 40), (4000, 360)]
)
def test_monte_carlo_bond_prices_match_a_direct_computation(
    num_paths, num_steps, dtype, rtol_values, rtol_errors
) -> None:
    # Non-uniform times; 2 x 1001 paths make an overlapping last chunk of rows; the rows
    # have 13, 32, 41, 38 and 361 points (rest of the row only, whole blocks only, both).
    rng = np.random.default_rng(num_steps)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.2, num_steps))]).astype(dtype)
    rates = (0.03 + 0.02 * rng.standard_normal((num_paths, num_steps + 1))).astype(dtype)
    estimate = monte_carlo_bond_prices(ShortRatePaths(times, rates))
    assert estimate.values.dtype == dtype
    times, rates = times.astype(np.float64), rates.astype(np.float64)
    integrals = np.cumsum(0.5 * (rates[:, 1:] + rates[:, :-1]) * np.diff(times), axis=1)
    discounts = np.exp(-integrals)
    half = num_paths // 2
    pairs = 0.5 * (discounts[:half] + discounts[half:])
    np.testing.assert_allclose(estimate.values, pairs.mean(axis=0), rtol=rtol_values)
    np.testing.assert_allclose(
        estimate.standard_errors, pairs.std(axis=0, ddof=1) / np.sqrt(half), rtol=rtol_errors
    )
