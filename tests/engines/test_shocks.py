"""Key-rate shocks: repricing identities, duration approximation, locality, scenario signs."""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import ParameterRangeError, ShapeMismatchError
from engines.rates import (
    bond_prices_from_curve,
    bond_sensitivities,
    key_rate_durations,
    shocked_portfolio_values,
    standard_curve_shocks,
)

KEYS = np.array([0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0])
CURVE_TIMES = np.array([0.0, 0.25, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0])
ZERO_RATES = np.array([0.050, 0.049, 0.046, 0.043, 0.041, 0.040, 0.041, 0.042, 0.045, 0.044])


def portfolio(n: int = 40, seed: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "quantities": rng.uniform(-50, 100, n),
        "coupon_rates": rng.uniform(0.0, 0.08, n),
        "maturities": rng.integers(1, 361, n) / 12.0,
        "frequencies": rng.choice([1, 2, 4], n),
        "faces": np.full(n, 100.0),
    }


def curve() -> dict[str, np.ndarray]:
    return {"curve_times": CURVE_TIMES, "zero_rates": ZERO_RATES}


def test_parallel_shock_equals_repricing_on_the_shifted_curve() -> None:
    book = portfolio()
    shifts = np.array([-150.0, -1.0, 0.0, 25.0, 300.0])
    shocks = np.repeat(shifts[:, None], KEYS.size, axis=1)
    r = shocked_portfolio_values(shocks_bp=shocks, key_tenors=KEYS, **curve(), **book)
    q = book.pop("quantities")
    base = np.asarray(bond_prices_from_curve(**curve(), **book).dirty_prices)
    np.testing.assert_allclose(r.base_value, q @ base, rtol=1e-13)
    for i, s in enumerate(shifts):
        prices = np.asarray(
            bond_prices_from_curve(
                curve_times=CURVE_TIMES, zero_rates=ZERO_RATES + s * 1e-4, **book
            ).dirty_prices
        )
        np.testing.assert_allclose(r.shocked_values[i], q @ prices, rtol=1e-13)
        np.testing.assert_allclose(r.bond_value_changes[i], q * (prices - base), atol=1e-9)
    assert float(r.value_changes[2]) == 0.0


def test_small_parallel_shock_is_minus_duration_times_price_times_dy() -> None:
    # On a flat zero curve z every bond's yield (compounded f times a year) is
    # y = f (e^{z/f} - 1), so a parallel shift dz moves it by dy = f (e^{(z+dz)/f} - e^{z/f}).
    book = portfolio(seed=4)
    z, dz = 0.045, 1e-6
    flat = {"curve_times": np.array([0.0, 30.0]), "zero_rates": np.array([z, z])}
    r = shocked_portfolio_values(
        shocks_bp=np.full((1, KEYS.size), dz * 1e4), key_tenors=KEYS, **flat, **book
    )
    q = book.pop("quantities")
    f = book["frequencies"]
    y = f * np.expm1(z / f)
    dy = f * (np.exp((z + dz) / f) - np.exp(z / f))
    s = bond_sensitivities(yields=y, **book)
    first_order = -np.asarray(s.modified_durations) * np.asarray(s.dirty_prices) * dy
    np.testing.assert_allclose(r.bond_value_changes[0], q * first_order, rtol=5e-5)
    second_order = first_order + 0.5 * np.asarray(s.convexities * s.dirty_prices) * dy**2
    np.testing.assert_allclose(r.bond_value_changes[0], q * second_order, rtol=1e-8)


def test_one_key_shock_moves_only_cash_flows_between_neighbouring_keys() -> None:
    key = 3  # the 5-year key: its tent spans (2y, 10y)
    shock = np.zeros(KEYS.size)
    shock[key] = 10.0
    maturities = np.array([1.0, 2.0, 5.0, 10.0, 30.0])
    book = {
        "quantities": np.ones(5),
        "coupon_rates": np.full(5, 0.06),
        "maturities": maturities,
        "frequencies": np.full(5, 2),
    }
    r = shocked_portfolio_values(shocks_bp=shock[None], key_tenors=KEYS, **curve(), **book)
    changes = np.asarray(r.bond_value_changes[0])
    np.testing.assert_array_equal(changes[:2], 0.0)  # all flows at or before the 2y key
    # The 30-year bond: only its flows inside (2, 10) years move, by the tent's weight.
    t = np.arange(1, 61) / 2.0
    flows = np.full(60, 3.0)
    flows[-1] += 100.0
    z = np.interp(t, CURVE_TIMES, ZERO_RATES)
    tent = np.interp(t, KEYS, shock) * 1e-4
    assert np.all(tent[(t <= 2.0) | (t >= 10.0)] == 0.0)
    expected = np.sum(flows * (np.exp(-(z + tent) * t) - np.exp(-z * t)))
    np.testing.assert_allclose(changes[4], expected, rtol=1e-12)
    assert changes[2] < 0 and changes[3] < 0 and changes[4] < 0


def test_tents_add_up_to_a_parallel_shock_and_key_rate_durations_to_duration() -> None:
    book = portfolio(seed=7)
    shocks = standard_curve_shocks(key_tenors=KEYS, key_bp=1.0)
    tents = np.asarray(shocks.shocks_bp[6:])
    np.testing.assert_array_equal(tents.sum(0), np.ones(KEYS.size))
    krd = key_rate_durations(key_tenors=KEYS, **curve(), **book)
    h = 1e-3  # bp
    bumped = shocked_portfolio_values(
        shocks_bp=np.stack([np.full(KEYS.size, h), np.full(KEYS.size, -h)]),
        key_tenors=KEYS,
        **curve(),
        **book,
    )
    parallel = -(bumped.shocked_values[0] - bumped.shocked_values[1]) / (2 * h * 1e-4)
    np.testing.assert_allclose(np.sum(krd.portfolio), parallel / bumped.base_value, rtol=1e-7)
    # Per bond: the key-rate durations of a zero-coupon bond sit on its neighbouring keys.
    zero = key_rate_durations(
        key_tenors=KEYS,
        **curve(),
        quantities=np.ones(1),
        coupon_rates=np.zeros(1),
        maturities=np.array([7.0]),
    )
    np.testing.assert_allclose(zero.bonds[0], [0, 0, 0, 7.0 * 3 / 5, 7.0 * 2 / 5, 0, 0], atol=1e-12)


def test_steepener_and_flattener_signs() -> None:
    shocks = standard_curve_shocks(key_tenors=KEYS)
    names = list(shocks.names)
    book = {
        "quantities": np.array([1.0, 1.0]),
        "coupon_rates": np.array([0.0, 0.0]),
        "maturities": np.array([1.0, 30.0]),
    }
    r = shocked_portfolio_values(shocks_bp=shocks.shocks_bp, key_tenors=KEYS, **curve(), **book)
    changes = np.asarray(r.bond_value_changes)
    steep, flat = names.index("steepener"), names.index("flattener")
    # Steepener: short rates fall, long rates rise; the flattener the other way round.
    assert changes[steep, 0] > 0 and changes[steep, 1] < 0
    assert changes[flat, 0] < 0 and changes[flat, 1] > 0
    up, down = names.index("parallel_up"), names.index("parallel_down")
    assert np.all(changes[up] < 0) and np.all(changes[down] > 0)
    # Convexity: a fall in rates gains more than the same rise loses.
    assert r.value_changes[down] > -r.value_changes[up]


def test_scenario_batches_and_float32() -> None:
    book = portfolio(seed=9)
    shocks = np.random.default_rng(0).normal(0, 50, (3, 4, KEYS.size))
    r = shocked_portfolio_values(shocks_bp=shocks, key_tenors=KEYS, **curve(), **book)
    assert r.shocked_values.shape == (3, 4)
    assert r.bond_value_changes.shape == (3, 4, 40)
    np.testing.assert_allclose(r.value_changes, np.sum(r.bond_value_changes, -1), rtol=1e-10)
    r32 = shocked_portfolio_values(
        shocks_bp=shocks.astype(np.float32),
        key_tenors=KEYS.astype(np.float32),
        curve_times=CURVE_TIMES.astype(np.float32),
        zero_rates=ZERO_RATES.astype(np.float32),
        **{k: x.astype(np.float32) for k, x in book.items()},
    )
    assert r32.shocked_values.dtype == np.float32
    np.testing.assert_allclose(r32.shocked_values, r.shocked_values, rtol=1e-4)


def test_validation() -> None:
    book = portfolio(n=3)
    with pytest.raises(ShapeMismatchError):
        shocked_portfolio_values(shocks_bp=np.zeros(3), key_tenors=KEYS, **curve(), **book)
    with pytest.raises(ParameterRangeError):
        shocked_portfolio_values(
            shocks_bp=np.zeros(2), key_tenors=np.array([5.0, 1.0]), **curve(), **book
        )
    with pytest.raises(ParameterRangeError):
        standard_curve_shocks(key_tenors=np.array([1.0, 1.0]))
