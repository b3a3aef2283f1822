"""AMM engines: Uniswap v2 integer formulas, invariants, impermanent loss, v3 whitepaper laws."""

from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
import pytest

from engines.amm import (
    amounts_for_liquidity,
    concentrated_liquidity_swap,
    constant_product_amount_in,
    constant_product_amount_out,
    constant_product_price_impact,
    impermanent_loss,
    liquidity_for_amounts,
    sqrt_price_at_tick,
    tick_at_price,
)
from engines.errors import (
    InvalidRangeError,
    NonFiniteInputError,
    NonPositiveValueError,
    ParameterRangeError,
    ShapeMismatchError,
    UnsupportedDtypeError,
)


def uniswap_v2_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountOut`` in exact integers (fee 0.3%)."""
    amount_in_with_fee = amount_in * 997
    numerator = amount_in_with_fee * reserve_out
    denominator = reserve_in * 1000 + amount_in_with_fee
    return numerator // denominator


def uniswap_v2_get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountIn`` in exact integers (fee 0.3%)."""
    numerator = reserve_in * amount_out * 1000
    denominator = (reserve_out - amount_out) * 997
    return numerator // denominator + 1


@pytest.fixture(scope="module")
def integer_pools() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random integer reserves (1e3..1e12 base units) and trades up to 3x the reserve."""
    rng = np.random.default_rng(5)
    n = 2000
    reserves_in = np.round(10 ** rng.uniform(3, 12, n))
    reserves_out = np.round(10 ** rng.uniform(3, 12, n))
    amounts = np.round(reserves_in * 10 ** rng.uniform(-6, 0.5, n)) + 1
    return amounts, reserves_in, reserves_out


def test_amount_out_matches_uniswap_v2_integer_formula(integer_pools) -> None:
    amounts, reserves_in, reserves_out = integer_pools
    ours = np.asarray(
        constant_product_amount_out(
            amounts_in=amounts, reserves_in=reserves_in, reserves_out=reserves_out
        )
    )
    exact = []
    for a, x, y, got in zip(amounts, reserves_in, reserves_out, ours, strict=True):
        a, x, y = int(a), int(x), int(y)
        contract = uniswap_v2_get_amount_out(a, x, y)
        value = Fraction(a * 997 * y, x * 1000 + a * 997)
        assert contract == value.numerator // value.denominator
        # The contract rounds the exact value down; ours is that exact value.
        assert contract - 1e-12 * got <= got < contract + 1 + 1e-12 * got
        exact.append(float(value))
    np.testing.assert_allclose(ours, exact, rtol=1e-14)


def test_amount_in_matches_uniswap_v2_integer_formula(integer_pools) -> None:
    amounts, reserves_in, reserves_out = integer_pools
    wanted = np.floor(reserves_out * np.linspace(1e-6, 0.99, amounts.size)) + 1
    ours = np.asarray(
        constant_product_amount_in(
            amounts_out=wanted, reserves_in=reserves_in, reserves_out=reserves_out
        )
    )
    for b, x, y, got in zip(wanted, reserves_in, reserves_out, ours, strict=True):
        contract = uniswap_v2_get_amount_in(int(b), int(x), int(y))
        value = Fraction(int(x) * int(b) * 1000, (int(y) - int(b)) * 997)
        assert got == pytest.approx(float(value), rel=1e-13)
        assert contract - 1 - 1e-12 * got <= got < contract + 1e-12 * got
    # Buying the output back with exactly that input returns the requested amount.
    round_trip = constant_product_amount_out(
        amounts_in=ours, reserves_in=reserves_in, reserves_out=reserves_out
    )
    np.testing.assert_allclose(round_trip, wanted, rtol=1e-12)


def test_amount_in_beyond_the_reserve_is_infinite() -> None:
    got = constant_product_amount_in(
        amounts_out=np.array([10.0, 200.0, 250.0]), reserves_in=100.0, reserves_out=200.0
    )
    assert np.isfinite(got[0]) and np.isinf(got[1]) and np.isinf(got[2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_constant_product_invariant_kept_without_fee_and_grows_with_fee(dtype) -> None:
    rng = np.random.default_rng(8)
    x, y = rng.uniform(1e3, 1e6, 500).astype(dtype), rng.uniform(1e3, 1e6, 500).astype(dtype)
    a = (x * rng.uniform(1e-4, 2.0, 500)).astype(dtype)
    k = x.astype(np.float64) * y
    no_fee = constant_product_amount_out(amounts_in=a, reserves_in=x, reserves_out=y, fees=0.0)
    assert no_fee.dtype == dtype
    k_after = (x + a).astype(np.float64) * (y - np.asarray(no_fee, np.float64))
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(k_after, k, rtol=rtol)
    with_fee = np.asarray(
        constant_product_amount_out(amounts_in=a, reserves_in=x, reserves_out=y), np.float64
    )
    grown = (x + a).astype(np.float64) * (y - with_fee)
    assert np.all(grown > k)
    # The fee stays in the pool: k grows exactly as if f a had been donated after the trade.
    np.testing.assert_allclose(grown, (x + a) * (y - with_fee), rtol=rtol)
    np.testing.assert_allclose(
        with_fee,
        np.asarray(
            constant_product_amount_out(
                amounts_in=a * 0.997, reserves_in=x, reserves_out=y, fees=0.0
            ),
            np.float64,
        ),
        rtol=rtol,
    )


def test_price_impact_is_execution_price_shortfall() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.uniform(1e3, 1e6, 300), rng.uniform(1e3, 1e6, 300)
    a, fees = x * rng.uniform(1e-6, 1.0, 300), rng.choice([0.0, 0.0005, 0.003, 0.01], 300)
    out = np.asarray(
        constant_product_amount_out(amounts_in=a, reserves_in=x, reserves_out=y, fees=fees)
    )
    impact = constant_product_price_impact(amounts_in=a, reserves_in=x, fees=fees)
    np.testing.assert_allclose(impact, 1 - (out / a) / (y / x), rtol=1e-9, atol=1e-15)
    tiny = constant_product_price_impact(amounts_in=1e-9, reserves_in=1e6, fees=fees)
    np.testing.assert_allclose(tiny, fees, rtol=1e-12, atol=2e-15)  # impact -> f as a -> 0


def simulated_lp_over_hold(price_ratio: float, steps: int) -> float:
    """Arbitrage a fee-free pool from price 2 to ``2 r`` in ``steps`` trades; LP / hold - 1."""
    x, y = 1000.0, 2000.0  # token0, token1; price = y / x token1 per token0
    target = 2.0 * price_ratio
    for target_k in np.linspace(2.0, target, steps + 1)[1:]:
        # Trade until y / x = target_k on the curve x y = k, via the engine's quote.
        k = x * y
        if target_k > y / x:
            sell = float(np.sqrt(k * target_k)) - y  # token1 in, token0 out
            got = float(
                constant_product_amount_out(
                    amounts_in=sell, reserves_in=y, reserves_out=x, fees=0.0
                )
            )
            x, y = x - got, y + sell
        else:
            sell = float(np.sqrt(k / target_k)) - x  # token0 in, token1 out
            got = float(
                constant_product_amount_out(
                    amounts_in=sell, reserves_in=x, reserves_out=y, fees=0.0
                )
            )
            x, y = x + sell, y - got
    lp_value = x * target + y
    hold_value = 1000.0 * target + 2000.0
    return lp_value / hold_value - 1


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.8, 1.0, 1.25, 2.0, 5.0, 30.0])
def test_impermanent_loss_matches_simulated_hold_vs_lp(ratio: float) -> None:
    formula = float(impermanent_loss(price_ratios=ratio))
    assert formula == pytest.approx(2 * np.sqrt(ratio) / (1 + ratio) - 1, abs=1e-15)
    for steps in (1, 7):
        assert simulated_lp_over_hold(ratio, steps) == pytest.approx(formula, abs=1e-12)


def test_impermanent_loss_symmetry_and_float32() -> None:
    r = np.geomspace(0.01, 100.0, 101)
    il = np.asarray(impermanent_loss(price_ratios=r))
    np.testing.assert_allclose(il, il[::-1], rtol=1e-12, atol=1e-16)
    assert il.max() == 0.0 and np.all(il <= 0.0)
    il32 = impermanent_loss(price_ratios=r.astype(np.float32))
    assert il32.dtype == jnp.float32
    np.testing.assert_allclose(il32, il, rtol=2e-6, atol=1e-7)


def test_sqrt_price_at_tick_vs_decimal_and_tickmath_bounds() -> None:
    getcontext().prec = 50
    rng = np.random.default_rng(10)
    ticks = np.concatenate([rng.integers(-887272, 887273, 200), [-887272, -1, 0, 1, 887272]])
    expected = [float(Decimal("1.0001") ** (Decimal(int(t)) / 2)) for t in ticks]
    np.testing.assert_allclose(sqrt_price_at_tick(ticks=ticks), expected, rtol=5e-14)
    f32 = sqrt_price_at_tick(ticks=ticks.astype(np.float32))
    assert f32.dtype == jnp.float32
    np.testing.assert_allclose(f32, expected, rtol=1e-5)
    # TickMath.MIN_SQRT_RATIO / MAX_SQRT_RATIO are Q64.96 integers (1 unit of MIN is 2e-10).
    bounds = np.asarray(sqrt_price_at_tick(ticks=np.array([-887272, 887272])))
    assert bounds[0] == pytest.approx(4295128739 / 2**96, rel=3e-10)
    assert bounds[1] == pytest.approx(
        1461446703485210103287273052203988822378723970342 / 2**96, rel=1e-14
    )


def test_tick_at_price_inverts_sqrt_price_at_tick() -> None:
    rng = np.random.default_rng(11)
    ticks = rng.integers(-800000, 800000, 500)
    inside = rng.uniform(0.02, 0.98, 500)  # fraction of the way to the next tick
    prices = np.exp(np.log1p(1e-4) * (ticks + inside))
    got = np.asarray(tick_at_price(prices=prices))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ticks)
    exact = np.asarray(sqrt_price_at_tick(ticks=ticks)) ** 2
    edge = np.asarray(tick_at_price(prices=exact))
    assert np.all((edge == ticks) | (edge == ticks - 1))  # on the tick itself: rounding
    small = rng.integers(-20000, 20000, 500)
    small_prices = np.exp(np.log1p(1e-4) * (small + 0.5)).astype(np.float32)
    np.testing.assert_array_equal(tick_at_price(prices=small_prices), small)


@pytest.fixture(scope="module")
def ranges() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12)
    n = 600
    lower = rng.uniform(0.5, 2.0, n)
    upper = lower * rng.uniform(1.001, 2.0, n)
    where = rng.choice(3, n)  # below, inside, above
    inside = lower + (upper - lower) * rng.uniform(0.01, 0.99, n)
    sqrt_prices = np.choose(where, [lower * 0.7, inside, upper * 1.3])
    return {
        "sqrt_prices": sqrt_prices,
        "sqrt_prices_lower": lower,
        "sqrt_prices_upper": upper,
        "liquidities": rng.uniform(1.0, 1e6, n),
        "where": where,
    }


def test_amounts_and_liquidity_round_trip(ranges) -> None:
    kw = {k: ranges[k] for k in ("sqrt_prices", "sqrt_prices_lower", "sqrt_prices_upper")}
    amounts = amounts_for_liquidity(liquidities=ranges["liquidities"], **kw)
    x, y = np.asarray(amounts.amounts0), np.asarray(amounts.amounts1)
    where = ranges["where"]
    assert np.all(y[where == 0] == 0) and np.all(x[where == 2] == 0)
    assert np.all((x > 0) & (y > 0) == (where == 1))
    back = liquidity_for_amounts(amounts0=x, amounts1=y, **kw)
    np.testing.assert_allclose(back, ranges["liquidities"], rtol=1e-12)
    # Extra of one token does not add liquidity; the binding token is used in full.
    more = liquidity_for_amounts(amounts0=2 * x + 1, amounts1=y, **kw)
    np.testing.assert_allclose(
        np.asarray(more)[where == 1], ranges["liquidities"][where == 1], rtol=1e-12
    )
    used = amounts_for_liquidity(liquidities=more, **kw)
    np.testing.assert_allclose(np.asarray(used.amounts1)[where != 0], y[where != 0], rtol=1e-12)


def test_whitepaper_closed_forms_for_amounts() -> None:
    s, sa, sb, liq = 1.1, 0.9, 1.3, 1000.0
    got = amounts_for_liquidity(
        sqrt_prices=s, sqrt_prices_lower=sa, sqrt_prices_upper=sb, liquidities=liq
    )
    # Uniswap v3 Core eq. 6.29-6.30: x = L (1/sqrtP - 1/sqrtPb), y = L (sqrtP - sqrtPa).
    assert float(got.amounts0) == pytest.approx(liq * (1 / s - 1 / sb), rel=1e-14)
    assert float(got.amounts1) == pytest.approx(liq * (s - sa), rel=1e-14)
    # A range as wide as possible holds the v2 reserves x = L / sqrtP, y = L sqrtP.
    wide = amounts_for_liquidity(
        sqrt_prices=s, sqrt_prices_lower=1e-12, sqrt_prices_upper=1e12, liquidities=liq
    )
    assert float(wide.amounts0) == pytest.approx(liq / s, rel=1e-11)
    assert float(wide.amounts1) == pytest.approx(liq * s, rel=1e-11)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_swap_within_range_follows_whitepaper_laws(ranges, dtype) -> None:
    inside = ranges["where"] == 1
    s = ranges["sqrt_prices"][inside]
    sa, sb = ranges["sqrt_prices_lower"][inside], ranges["sqrt_prices_upper"][inside]
    liq = ranges["liquidities"][inside]
    rng = np.random.default_rng(13)
    zero_for_one = rng.uniform(size=s.size) < 0.5
    fees = rng.choice([0.0005, 0.003, 0.01], s.size)
    room = np.where(zero_for_one, liq * (1 / sa - 1 / s), liq * (sb - s)) / (1 - fees)
    amounts = room * rng.uniform(0.01, 0.99, s.size)  # always within the range
    cast = {
        k: np.asarray(val, dtype)
        for k, val in {
            "amounts_in": amounts,
            "sqrt_prices": s,
            "liquidities": liq,
            "sqrt_prices_lower": sa,
            "sqrt_prices_upper": sb,
            "fees": fees,
        }.items()
    }
    r = concentrated_liquidity_swap(zero_for_one=zero_for_one, **cast)
    assert r.amounts_out.dtype == dtype and bool(np.all(r.within_range))
    s64 = {k: np.asarray(val, np.float64) for k, val in cast.items()}
    net = s64["amounts_in"] * (1 - s64["fees"])
    after = np.asarray(r.sqrt_prices_after, np.float64)
    out = np.asarray(r.amounts_out, np.float64)
    rtol = 1e-11 if dtype == np.float64 else 2e-3
    zf = zero_for_one
    # Delta(1/sqrtP) = Delta x / L for token0 in; Delta sqrtP = Delta y / L for token1 out.
    np.testing.assert_allclose(
        (1 / after - 1 / s64["sqrt_prices"])[zf], (net / s64["liquidities"])[zf], rtol=rtol
    )
    np.testing.assert_allclose(
        (s64["sqrt_prices"] - after)[zf], (out / s64["liquidities"])[zf], rtol=rtol
    )
    # Token1 in: Delta sqrtP = Delta y / L, and token0 out = L Delta(1/sqrtP).
    np.testing.assert_allclose(
        (after - s64["sqrt_prices"])[~zf], (net / s64["liquidities"])[~zf], rtol=rtol
    )
    np.testing.assert_allclose(
        (1 / s64["sqrt_prices"] - 1 / after)[~zf], (out / s64["liquidities"])[~zf], rtol=rtol
    )
    np.testing.assert_array_equal(r.amounts_in_used, cast["amounts_in"])


def test_swap_moves_position_amounts_by_the_traded_amounts(ranges) -> None:
    inside = ranges["where"] == 1
    kw = {k: ranges[k][inside] for k in ("sqrt_prices_lower", "sqrt_prices_upper")}
    s, liq = ranges["sqrt_prices"][inside], ranges["liquidities"][inside]
    zero_for_one = np.arange(s.size) % 2 == 0
    amounts = np.where(zero_for_one, liq * 1e-3 / s, liq * 1e-3 * s)
    r = concentrated_liquidity_swap(
        amounts_in=amounts,
        sqrt_prices=s,
        liquidities=liq,
        zero_for_one=zero_for_one,
        fees=0.003,
        **kw,
    )
    before = amounts_for_liquidity(sqrt_prices=s, liquidities=liq, **kw)
    after = amounts_for_liquidity(sqrt_prices=r.sqrt_prices_after, liquidities=liq, **kw)
    net = np.asarray(r.amounts_in_used) * (1 - 0.003)
    d0 = np.asarray(after.amounts0) - np.asarray(before.amounts0)
    d1 = np.asarray(after.amounts1) - np.asarray(before.amounts1)
    out = np.asarray(r.amounts_out)
    np.testing.assert_allclose(np.where(zero_for_one, d0, d1), net, rtol=1e-8)
    np.testing.assert_allclose(np.where(zero_for_one, -d1, -d0), out, rtol=1e-8)


def test_swap_capped_at_the_range_boundary() -> None:
    s, sa, sb, liq, fee = 1.0, 0.95, 1.1, 500.0, 0.003
    r = concentrated_liquidity_swap(
        amounts_in=np.array([1e4, 1e4]),
        sqrt_prices=s,
        liquidities=liq,
        sqrt_prices_lower=sa,
        sqrt_prices_upper=sb,
        zero_for_one=np.array([True, False]),
        fees=fee,
    )
    np.testing.assert_array_equal(r.within_range, [False, False])
    np.testing.assert_allclose(r.sqrt_prices_after, [sa, sb], rtol=1e-15)
    np.testing.assert_allclose(
        r.amounts_in_used,
        [liq * (1 / sa - 1 / s) / (1 - fee), liq * (sb - s) / (1 - fee)],
        rtol=1e-13,
    )
    np.testing.assert_allclose(r.amounts_out, [liq * (s - sa), liq * (1 / s - 1 / sb)], rtol=1e-13)


def test_full_range_swap_equals_constant_product_quote() -> None:
    s, liq, a = 1.7, 2.5e5, np.array([1.0, 100.0, 5e4])
    v3 = concentrated_liquidity_swap(
        amounts_in=a, sqrt_prices=s, liquidities=liq, sqrt_prices_lower=1e-9, sqrt_prices_upper=1e9
    )
    v2 = constant_product_amount_out(amounts_in=a, reserves_in=liq / s, reserves_out=liq * s)
    np.testing.assert_allclose(v3.amounts_out, v2, rtol=1e-12)


def test_amm_validation_errors() -> None:
    with pytest.raises(NonPositiveValueError, match="reserves_in"):
        constant_product_amount_out(amounts_in=1.0, reserves_in=0.0, reserves_out=1.0)
    with pytest.raises(NonPositiveValueError, match="amounts_in"):
        constant_product_amount_out(amounts_in=-1.0, reserves_in=1.0, reserves_out=1.0)
    with pytest.raises(ParameterRangeError, match="fees"):
        constant_product_amount_out(amounts_in=1.0, reserves_in=1.0, reserves_out=1.0, fees=1.0)
    with pytest.raises(NonFiniteInputError, match="price_ratios"):
        impermanent_loss(price_ratios=np.array([1.0, np.inf]))
    with pytest.raises(ShapeMismatchError, match="broadcast"):
        constant_product_amount_out(amounts_in=np.ones(3), reserves_in=np.ones(2), reserves_out=1.0)
    with pytest.raises(ParameterRangeError, match="ticks"):
        sqrt_price_at_tick(ticks=887273)
    with pytest.raises(InvalidRangeError, match="sqrt_prices_lower"):
        amounts_for_liquidity(
            sqrt_prices=1.0, sqrt_prices_lower=1.2, sqrt_prices_upper=1.1, liquidities=1.0
        )
    with pytest.raises(InvalidRangeError, match="outside"):
        concentrated_liquidity_swap(
            amounts_in=1.0,
            sqrt_prices=1.3,
            liquidities=1.0,
            sqrt_prices_lower=1.0,
            sqrt_prices_upper=1.2,
        )
    with pytest.raises(UnsupportedDtypeError, match="zero_for_one"):
        concentrated_liquidity_swap(
            amounts_in=1.0,
            sqrt_prices=1.1,
            liquidities=1.0,
            sqrt_prices_lower=1.0,
            sqrt_prices_upper=1.2,
            zero_for_one=1,
        )
