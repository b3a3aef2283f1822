"""Options engines vs QuantLib (the oracle), parity, limits and autodiff checks."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import QuantLib as ql  # noqa: N813

from engines.errors import (
    ConflictingArgumentsError,
    NegativeExpiryError,
    NegativeVolatilityError,
    NonFiniteInputError,
    NonPositiveValueError,
    ShapeMismatchError,
)
from engines.options import (
    black76_price,
    black_scholes_price,
    implied_volatility,
    option_greeks,
    option_price,
)

TODAY = ql.Date(15, 1, 2024)
DAY_COUNT = ql.Actual365Fixed()


def random_grid(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = rng.integers(7, 3 * 365, n)
    return {
        "volatilities": rng.uniform(0.05, 0.8, n),
        "strikes": rng.uniform(60.0, 160.0, n),
        "expiries": days / 365.0,
        "spots": rng.uniform(80.0, 120.0, n),
        "discount_rates": rng.uniform(-0.01, 0.08, n),
        "dividend_rates": rng.uniform(0.0, 0.05, n),
        "is_call_options": rng.uniform(size=n) < 0.5,
        "days": days,
    }


def quantlib_bsm(g: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Price and Greeks from QuantLib's AnalyticEuropeanEngine, one option at a time."""
    ql.Settings.instance().evaluationDate = TODAY
    out: dict[str, list[float]] = {
        k: [] for k in ("price", "delta", "gamma", "vega", "theta", "rho")
    }
    for i in range(len(g["strikes"])):
        spot = ql.QuoteHandle(ql.SimpleQuote(float(g["spots"][i])))
        rates = ql.YieldTermStructureHandle(
            ql.FlatForward(TODAY, float(g["discount_rates"][i]), DAY_COUNT)
        )
        divs = ql.YieldTermStructureHandle(
            ql.FlatForward(TODAY, float(g["dividend_rates"][i]), DAY_COUNT)
        )
        vol = ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(TODAY, ql.NullCalendar(), float(g["volatilities"][i]), DAY_COUNT)
        )
        process = ql.BlackScholesMertonProcess(spot, divs, rates, vol)
        kind = ql.Option.Call if g["is_call_options"][i] else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, float(g["strikes"][i])),
            ql.EuropeanExercise(TODAY + int(g["days"][i])),
        )
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        out["price"].append(option.NPV())
        out["delta"].append(option.delta())
        out["gamma"].append(option.gamma())
        out["vega"].append(option.vega())
        out["theta"].append(option.theta())
        out["rho"].append(option.rho())
    return {k: np.array(v) for k, v in out.items()}


def engine_kwargs(g: dict[str, np.ndarray], dtype: type = np.float64) -> dict[str, np.ndarray]:
    keys = ("strikes", "expiries", "spots", "discount_rates", "dividend_rates")
    kw = {k: g[k].astype(dtype) for k in keys}
    kw["is_call_options"] = g["is_call_options"]
    return kw


@pytest.fixture(scope="module")
def grid() -> dict[str, np.ndarray]:
    return random_grid(400, seed=7)


@pytest.fixture(scope="module")
def quantlib_values(grid: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return quantlib_bsm(grid)


def test_bsm_prices_match_quantlib_float64(grid, quantlib_values) -> None:
    prices = black_scholes_price(volatilities=grid["volatilities"], **engine_kwargs(grid))
    assert prices.dtype == jnp.float64
    np.testing.assert_allclose(prices, quantlib_values["price"], rtol=1e-10, atol=1e-12)


def test_bsm_prices_match_quantlib_float32(grid, quantlib_values) -> None:
    prices = black_scholes_price(
        volatilities=grid["volatilities"].astype(np.float32), **engine_kwargs(grid, np.float32)
    )
    assert prices.dtype == jnp.float32
    np.testing.assert_allclose(prices, quantlib_values["price"], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ["delta", "gamma", "vega", "theta", "rho"])
def test_autodiff_greeks_match_quantlib(grid, quantlib_values, name: str) -> None:
    greeks = option_greeks(volatilities=grid["volatilities"], **engine_kwargs(grid))
    ours = np.asarray(getattr(greeks, name + "s"))
    # QuantLib reports theta per year with the same sign convention (-dV/dT).
    np.testing.assert_allclose(ours, quantlib_values[name], rtol=1e-10, atol=1e-10)


def test_autodiff_greeks_float32(grid, quantlib_values) -> None:
    greeks = option_greeks(
        volatilities=grid["volatilities"].astype(np.float32), **engine_kwargs(grid, np.float32)
    )
    assert greeks.deltas.dtype == jnp.float32
    np.testing.assert_allclose(greeks.deltas, quantlib_values["delta"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(greeks.vegas, quantlib_values["vega"], rtol=1e-4, atol=1e-3)


def test_second_order_greeks_vs_bumped_prices(grid) -> None:
    kw = engine_kwargs(grid)
    vols = grid["volatilities"]
    greeks = option_greeks(volatilities=vols, **kw)
    h_s, h_v = 1e-3, 1e-4

    def price(dspot: float, dvol: float) -> np.ndarray:
        bumped = dict(kw, spots=kw["spots"] + dspot)
        return np.asarray(option_price(volatilities=vols + dvol, **bumped))

    vanna = (price(h_s, h_v) - price(h_s, -h_v) - price(-h_s, h_v) + price(-h_s, -h_v)) / (
        4 * h_s * h_v
    )
    volga = (price(0, h_v) - 2 * price(0, 0) + price(0, -h_v)) / h_v**2
    gamma = (price(h_s, 0) - 2 * price(0, 0) + price(-h_s, 0)) / h_s**2
    np.testing.assert_allclose(greeks.vannas, vanna, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(greeks.volgas, volga, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(greeks.gammas, gamma, rtol=1e-4, atol=1e-5)


def test_put_call_parity(grid) -> None:
    kw = engine_kwargs(grid)
    kw.pop("is_call_options")
    calls = option_price(volatilities=grid["volatilities"], is_call_options=True, **kw)
    puts = option_price(volatilities=grid["volatilities"], is_call_options=False, **kw)
    t = grid["expiries"]
    forward_value = grid["spots"] * np.exp(-grid["dividend_rates"] * t)
    strike_value = grid["strikes"] * np.exp(-grid["discount_rates"] * t)
    np.testing.assert_allclose(calls - puts, forward_value - strike_value, rtol=1e-12, atol=1e-11)


def test_black76_matches_quantlib_black_formula() -> None:
    rng = np.random.default_rng(11)
    n = 200
    vols, strikes = rng.uniform(0.05, 0.9, n), rng.uniform(20, 80, n)
    forwards, expiries = rng.uniform(30, 70, n), rng.uniform(0.01, 4, n)
    rates, calls = rng.uniform(0, 0.06, n), rng.uniform(size=n) < 0.5
    ours = black76_price(
        volatilities=vols,
        strikes=strikes,
        expiries=expiries,
        forwards=forwards,
        discount_rates=rates,
        is_call_options=calls,
    )
    expected = [
        ql.blackFormula(
            ql.Option.Call if c else ql.Option.Put, k, f, v * np.sqrt(t), np.exp(-r * t)
        )
        for v, k, f, t, r, c in zip(vols, strikes, forwards, expiries, rates, calls, strict=True)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
    greeks = option_greeks(
        volatilities=vols,
        strikes=strikes,
        expiries=expiries,
        forwards=forwards,
        discount_rates=rates,
        is_call_options=calls,
    )
    np.testing.assert_allclose(greeks.rhos, -expiries * np.asarray(ours), rtol=1e-10)


def test_limit_cases_have_no_nans() -> None:
    kw = {
        "strikes": np.array([90.0, 110.0, 100.0, 1e-3, 1e5]),
        "spots": 100.0,
        "discount_rates": 0.03,
        "dividend_rates": 0.01,
    }
    for vols, expiries in [(0.0, 1.0), (0.2, 0.0), (0.0, 0.0), (3.0, 50.0)]:
        greeks = option_greeks(volatilities=vols, expiries=expiries, **kw)
        for value in greeks:
            assert np.all(np.isfinite(value))
    zero_vol = option_price(volatilities=0.0, expiries=1.0, **kw)
    forward = 100.0 * np.exp(0.02)
    intrinsic = np.exp(-0.03) * np.maximum(forward - kw["strikes"], 0.0)
    np.testing.assert_allclose(zero_vol, intrinsic, rtol=1e-14)
    zero_time = option_price(volatilities=0.3, expiries=0.0, is_call_options=False, **kw)
    np.testing.assert_allclose(zero_time, np.maximum(kw["strikes"] - 100.0, 0.0), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_vol_greeks_are_those_of_the_discounted_intrinsic_value(dtype) -> None:
    # Black-76 with F = K exactly on the middle option: the kink of max(F - K, 0), where
    # the delta is the mean of its one-sided slopes, D/2 (as jnp.maximum's derivative).
    forwards = np.array([90.0, 100.0, 110.0], dtype)
    for call in (True, False):
        greeks = option_greeks(
            volatilities=np.zeros(3, dtype),
            strikes=np.full(3, 100.0, dtype),
            expiries=np.full(3, 2.0, dtype),
            forwards=forwards,
            discount_rates=np.full(3, 0.05, dtype),
            is_call_options=np.full(3, call),
        )
        discount = np.exp(-0.05 * 2.0)
        in_the_money = (forwards > 100.0) if call else (forwards < 100.0)
        sign = 1.0 if call else -1.0
        expected_delta = sign * discount * np.where(in_the_money, 1.0, [0.0, 0.5, 0.0])
        rtol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(greeks.deltas, expected_delta, rtol=rtol, atol=0)
        np.testing.assert_allclose(
            greeks.prices, discount * np.maximum(sign * (forwards - 100.0), 0.0), rtol=rtol
        )
        off_the_strike = [0, 2]
        for second_order in (greeks.gammas, greeks.vegas, greeks.vannas, greeks.volgas):
            np.testing.assert_array_equal(np.asarray(second_order)[off_the_strike], 0.0)


def test_implied_vol_matches_quantlib(grid) -> None:
    ql.Settings.instance().evaluationDate = TODAY
    kw = engine_kwargs(grid)
    prices = np.asarray(option_price(volatilities=grid["volatilities"], **kw))
    ours = implied_volatility(prices=prices, **kw)
    zero_vol = np.asarray(option_price(volatilities=0.0, **kw))
    informative = prices - zero_vol > 1e-6 * grid["spots"]  # time value above rounding
    assert informative.sum() > 300
    assert bool(np.all(np.asarray(ours.converged)[informative]))
    expected = []
    for i in np.flatnonzero(informative)[:150]:
        vol_quote = ql.SimpleQuote(0.3)
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(float(grid["spots"][i]))),
            ql.YieldTermStructureHandle(
                ql.FlatForward(TODAY, float(grid["dividend_rates"][i]), DAY_COUNT)
            ),
            ql.YieldTermStructureHandle(
                ql.FlatForward(TODAY, float(grid["discount_rates"][i]), DAY_COUNT)
            ),
            ql.BlackVolTermStructureHandle(
                ql.BlackConstantVol(TODAY, ql.NullCalendar(), ql.QuoteHandle(vol_quote), DAY_COUNT)
            ),
        )
        kind = ql.Option.Call if grid["is_call_options"][i] else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, float(grid["strikes"][i])),
            ql.EuropeanExercise(TODAY + int(grid["days"][i])),
        )
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        expected.append(
            (i, option.impliedVolatility(float(prices[i]), process, 1e-14, 500, 1e-7, 5.0))
        )
    idx = np.array([i for i, _ in expected])
    np.testing.assert_allclose(
        np.asarray(ours.implied_volatilities)[idx], [x for _, x in expected], rtol=1e-10
    )
    np.testing.assert_allclose(
        np.asarray(ours.implied_volatilities)[informative],
        grid["volatilities"][informative],
        rtol=1e-10,
    )


def test_float64_implied_vol_beyond_float32_range() -> None:
    # Prices far below float32's range, and huge strikes: the float32 first pass cannot
    # represent them, so float64 must solve them on its own, to the same precision.
    rng = np.random.default_rng(11)
    n = 400
    vols = rng.uniform(0.05, 0.3, n)
    forwards = np.concatenate([np.full(n // 2, 100.0), np.full(n // 2, 1e45)])
    strikes = forwards * np.exp(rng.uniform(1.0, 3.0, n))
    expiries = rng.uniform(0.05, 1.0, n)
    prices = np.asarray(
        black76_price(volatilities=vols, strikes=strikes, expiries=expiries, forwards=forwards)
    )
    assert np.sum(prices[: n // 2] < 1e-45) > 50  # below the smallest float32
    informative = prices > forwards * 1e-40  # far above float64's eps^3 floor
    assert informative.sum() > 100
    result = implied_volatility(
        prices=prices[informative],
        strikes=strikes[informative],
        expiries=expiries[informative],
        forwards=forwards[informative],
    )
    assert bool(np.all(result.converged))
    np.testing.assert_allclose(result.implied_volatilities, vols[informative], rtol=1e-9)


def test_implied_vol_float32_and_flags() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    vols = rng.uniform(0.1, 0.6, n).astype(np.float32)
    strikes = rng.uniform(80, 125, n).astype(np.float32)
    expiries = rng.uniform(0.1, 2, n).astype(np.float32)
    forwards = np.full(n, 100.0, np.float32)
    calls = strikes >= 100.0  # out of the money: no parity cancellation in float32
    prices = black76_price(
        volatilities=vols,
        strikes=strikes,
        expiries=expiries,
        forwards=forwards,
        is_call_options=calls,
    )
    result = implied_volatility(
        prices=prices, strikes=strikes, expiries=expiries, forwards=forwards, is_call_options=calls
    )
    assert result.implied_volatilities.dtype == jnp.float32
    assert bool(np.all(result.converged))
    np.testing.assert_allclose(result.implied_volatilities, vols, rtol=1e-4)
    # Outside the no-arbitrage bounds: flagged, not raised.
    bad = implied_volatility(
        prices=np.array([150.0, 1.0, 0.0]),
        strikes=100.0,
        expiries=1.0,
        forwards=np.array([100.0, 120.0, 90.0]),
    )
    np.testing.assert_array_equal(np.asarray(bad.converged), [False, False, True])
    assert np.isnan(bad.implied_volatilities[0]) and np.isnan(bad.implied_volatilities[1])
    assert float(bad.implied_volatilities[2]) == 0.0


def test_validation_errors() -> None:
    ok = {"strikes": 100.0, "expiries": 1.0, "spots": 100.0}
    with pytest.raises(NegativeVolatilityError, match="volatilities"):
        option_price(volatilities=-0.1, **ok)
    with pytest.raises(NegativeExpiryError, match="expiries"):
        option_price(volatilities=0.2, strikes=100.0, expiries=-1.0, spots=100.0)
    with pytest.raises(NonFiniteInputError, match="spots"):
        option_price(volatilities=0.2, strikes=100.0, expiries=1.0, spots=np.nan)
    with pytest.raises(NonPositiveValueError, match="strikes"):
        option_price(volatilities=0.2, strikes=0.0, expiries=1.0, spots=100.0)
    with pytest.raises(ShapeMismatchError, match="broadcast"):
        option_price(volatilities=np.ones(3), strikes=np.ones(4), expiries=1.0, spots=1.0)
    with pytest.raises(ConflictingArgumentsError):
        option_price(volatilities=0.2, strikes=100.0, expiries=1.0)
    with pytest.raises(NonPositiveValueError, match="prices"):
        implied_volatility(prices=-1.0, **ok)


@pytest.mark.parametrize("shape", [(150000,), (300, 467)])
def test_greeks_of_large_batches_match_small_batches(shape: tuple[int, ...]) -> None:
    size = int(np.prod(shape))
    g = random_grid(size, seed=size)
    kw = engine_kwargs(g, np.float32)
    vols = g["volatilities"].astype(np.float32)
    whole = option_greeks(
        volatilities=vols.reshape(shape), **{k: v.reshape(shape) for k, v in kw.items()}
    )
    assert all(np.shape(x) == shape for x in whole)
    for start in (0, size // 2, size - 700):
        part = slice(start, start + 700)
        piece = option_greeks(volatilities=vols[part], **{k: v[part] for k, v in kw.items()})
        for ours, expected in zip(whole, piece, strict=True):
            np.testing.assert_allclose(
                np.asarray(ours).reshape(-1)[part], expected, rtol=1e-6, atol=1e-6
            )
