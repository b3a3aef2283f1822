"""Uniswap v3 concentrated liquidity within one price range: ticks, liquidity, swaps.

Prices are token1 per token0 and the pool's state is ``sqrt P``.  A position of
liquidity ``L`` on ``[P_a, P_b]`` (``sqrt`` prices ``s_a < s_b``) holds, at ``s``
clamped to the range (``s_c = min(max(s, s_a), s_b)``),

    x = L (s_b - s_c) / (s_c s_b)   (token0),        y = L (s_c - s_a)   (token1),

which covers the three cases below / in / above the range at once.  A swap moves ``s``
along the curve by the whitepaper's laws [1, eq. 6.13-6.16]

    Delta(1 / sqrt P) = Delta x / L,        Delta(sqrt P) = Delta y / L,

with the fee taken from the input first.  Ticks are powers of 1.0001:
``sqrt P(i) = 1.0001^(i/2)`` for ``|i| <= 887272``.

References:
    [1] Adams, H., Zinsmeister, N., Salem, M., Keefer, R., Robinson, D. (2021).
        Uniswap v3 Core (whitepaper), sections 6.1-6.3.
    [2] Uniswap v3 core ``TickMath`` / ``SwapMath.computeSwapStep`` and periphery
        ``LiquidityAmounts``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, UnsupportedDtypeError

__all__ = [
    "ConcentratedSwap",
    "TokenAmounts",
    "amounts_for_liquidity",
    "concentrated_liquidity_swap",
    "liquidity_for_amounts",
    "sqrt_price_at_tick",
    "tick_at_price",
]

MAX_TICK = 887272
UNISWAP_V3_FEE = 0.003
_HALF_LOG_TICK_BASE = 0.5 * math.log1p(1e-4)


class TokenAmounts(NamedTuple):
    """Token amounts of a position, each ``[batch...]``."""

    amounts0: jax.Array
    amounts1: jax.Array


class ConcentratedSwap(NamedTuple):
    """Result of an exact-input swap against one liquidity range, each ``[batch...]``.

    Attributes:
        amounts_in_used: input consumed, fee included; less than the input where the
            swap would cross the range boundary.
        amounts_out: output received.
        sqrt_prices_after: ``sqrt P`` after the swap (the boundary where capped).
        within_range: bool, True where the whole input was swapped inside the range.
    """

    amounts_in_used: jax.Array
    amounts_out: jax.Array
    sqrt_prices_after: jax.Array
    within_range: jax.Array


def _range_arrays(
    named: list[tuple[str, ArrayLike]], dtype: np.dtype, *, non_negative: tuple[str, ...]
) -> dict[str, jax.Array]:
    """Convert and validate: all finite, sqrt prices and liquidities > 0, lower < upper."""
    arrays = v.as_arrays(named, dtype)
    by_name = dict(arrays)
    v.check_all(
        finite=arrays,
        non_negative=[(n, a) for n, a in arrays if n in non_negative],
        positive=[(n, a) for n, a in arrays if n not in non_negative],
    )
    v.check_ordered(
        "sqrt_prices_lower",
        by_name["sqrt_prices_lower"],
        "sqrt_prices_upper",
        by_name["sqrt_prices_upper"],
    )
    return by_name


@jax.jit
def _sqrt_price_jit(ticks: jax.Array) -> jax.Array:
    return jnp.exp(ticks * jnp.asarray(_HALF_LOG_TICK_BASE, ticks.dtype))


@jax.jit
def _tick_jit(prices: jax.Array) -> jax.Array:
    sqrt_prices = jnp.sqrt(prices)
    guess = jnp.floor(jnp.log(prices) / jnp.asarray(2 * _HALF_LOG_TICK_BASE, prices.dtype))
    guess = jnp.clip(guess, -MAX_TICK, MAX_TICK)
    # Rounding can put the guess one tick off: step to the greatest i with sqrtP(i) <= s.
    up = (_sqrt_price_jit(guess + 1) <= sqrt_prices) & (guess < MAX_TICK)
    down = (_sqrt_price_jit(guess) > sqrt_prices) & (guess > -MAX_TICK)
    return (guess + up - down).astype(jnp.int32)


@jax.jit
def _liquidity_jit(
    sqrt_prices: jax.Array,
    lower: jax.Array,
    upper: jax.Array,
    amounts0: jax.Array,
    amounts1: jax.Array,
) -> jax.Array:
    s = jnp.clip(sqrt_prices, lower, upper)
    below_upper = s < upper
    above_lower = s > lower
    from_token0 = amounts0 * s * upper / jnp.where(below_upper, upper - s, 1)
    from_token1 = amounts1 / jnp.where(above_lower, s - lower, 1)
    return jnp.minimum(
        jnp.where(below_upper, from_token0, jnp.inf), jnp.where(above_lower, from_token1, jnp.inf)
    )


@jax.jit
def _amounts_jit(
    sqrt_prices: jax.Array, lower: jax.Array, upper: jax.Array, liquidities: jax.Array
) -> TokenAmounts:
    s = jnp.clip(sqrt_prices, lower, upper)
    return TokenAmounts(liquidities * (upper - s) / (s * upper), liquidities * (s - lower))


@jax.jit
def _swap_jit(
    amounts_in: jax.Array,
    sqrt_prices: jax.Array,
    liquidities: jax.Array,
    lower: jax.Array,
    upper: jax.Array,
    zero_for_one: jax.Array,
    fees: jax.Array,
) -> ConcentratedSwap:
    s, liq = sqrt_prices, liquidities
    net_in = amounts_in * (1 - fees)
    # token0 in: 1/sqrtP rises by net/L down to the lower end; token1 in: sqrtP rises by net/L.
    room = jnp.where(zero_for_one, liq * (s - lower) / (s * lower), liq * (upper - s))
    within = net_in <= room
    s_down = liq * s / (liq + net_in * s)
    s_up = s + net_in / liq
    s_after = jnp.where(
        within, jnp.where(zero_for_one, s_down, s_up), jnp.where(zero_for_one, lower, upper)
    )
    # Differences written without cancellation: s - s_down = net s^2 / (L + net s).
    out_token1 = jnp.where(within, liq * net_in * s * s / (liq + net_in * s), liq * (s - lower))
    out_token0 = jnp.where(within, net_in, room) / (s * s_after)
    amounts_out = jnp.where(zero_for_one, out_token1, out_token0)
    used = jnp.where(within, amounts_in, room / (1 - fees))
    return ConcentratedSwap(used, amounts_out, s_after, within)


def sqrt_price_at_tick(*, ticks: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Square-root price at a tick, ``sqrt P(i) = 1.0001^(i / 2)``.

    Formula: ``sqrt P(i) = exp(i ln(1.0001) / 2)``; ``P(i) = 1.0001^i`` is token1 per token0.

    Example:
        >>> from engines.amm import sqrt_price_at_tick
        >>> sqrt_price_at_tick(ticks=[-23028, 0, 23028])
        Array([0.31621199, 1.        , 3.16243542], dtype=float64)

    Args:
        ticks: ``[batch...]`` int or float, tick indices ``|i| <= 887272``.
        dtype: float32 or float64; default None meaning the dtype of ``ticks`` when it
            is floating, else float64.

    Returns:
        ``[batch...]`` square-root prices.

    Raises:
        NonFiniteInputError, ParameterRangeError.

    References:
        [1] Uniswap v3 Core (2021), section 6.1 (ticks); [2] ``TickMath.getSqrtRatioAtTick``.
    """
    dt = v.infer_dtype(ticks, dtype)
    tick_array = v.as_array("ticks", ticks, dt)
    v.check_all(finite=[("ticks", tick_array)])
    if bool(np.any(np.abs(np.asarray(tick_array)) > MAX_TICK)):
        raise ParameterRangeError(f"ticks must lie in [-{MAX_TICK}, {MAX_TICK}]")
    return _sqrt_price_jit(tick_array)


def tick_at_price(*, prices: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Tick of a price: the greatest ``i`` with ``1.0001^i <= P`` (clipped to ``+-887272``).

    Formula: ``i = floor(ln P / ln 1.0001)``, then moved by one where rounding broke
    ``sqrt P(i) <= sqrt P < sqrt P(i + 1)`` as computed by :func:`sqrt_price_at_tick`.

    Example:
        >>> from engines.amm import tick_at_price
        >>> tick_at_price(prices=[0.1, 1.0, 1.0001, 10.0])
        Array([-23028,      0,      1,  23027], dtype=int32)

    Args:
        prices: ``[batch...]`` float, prices ``P > 0`` (token1 per token0).
        dtype: float32 or float64, the precision of the computation; default None
            meaning the dtype of ``prices``.  In float32 a tick is exact to about
            ``+-1`` beyond ``|i| ~ 10^5``.

    Returns:
        ``[batch...]`` int32 ticks.

    Raises:
        NonFiniteInputError, NonPositiveValueError.

    References:
        [1] Uniswap v3 Core (2021), section 6.1; [2] ``TickMath.getTickAtSqrtRatio``.
    """
    dt = v.infer_dtype(prices, dtype)
    price_array = v.as_array("prices", prices, dt)
    v.check_all(finite=[("prices", price_array)], positive=[("prices", price_array)])
    return _tick_jit(price_array)


def liquidity_for_amounts(
    *,
    sqrt_prices: ArrayLike,
    sqrt_prices_lower: ArrayLike,
    sqrt_prices_upper: ArrayLike,
    amounts0: ArrayLike,
    amounts1: ArrayLike,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Largest liquidity a deposit of ``amounts0`` and ``amounts1`` buys on a price range.

    Formula: with ``s_c = clip(s, s_a, s_b)``,
    ``L = min(x s_c s_b / (s_b - s_c), y / (s_c - s_a))`` where a term with a zero
    denominator is dropped: below the range only token0 counts
    (``L = x s_a s_b / (s_b - s_a)``), above it only token1 (``L = y / (s_b - s_a)``).

    Example:
        >>> from engines.amm import liquidity_for_amounts
        >>> liquidity_for_amounts(sqrt_prices=[1.0, 2.0], sqrt_prices_lower=0.9,
        ...     sqrt_prices_upper=1.1, amounts0=1.0, amounts1=1.0)
        Array([10.,  5.], dtype=float64)

    Args:
        sqrt_prices: ``[batch...]`` float, current ``sqrt P > 0``.
        sqrt_prices_lower: ``[batch...]`` float, ``s_a > 0`` of the range.
        sqrt_prices_upper: ``[batch...]`` float, ``s_b > s_a``.
        amounts0: ``[batch...]`` float, token0 available ``>= 0``.
        amounts1: ``[batch...]`` float, token1 available ``>= 0``.
        dtype: float32 or float64; default None meaning the dtype of ``sqrt_prices``.

    Returns:
        ``[batch...]`` liquidity ``L``.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError, InvalidRangeError.

    References:
        [1] Uniswap v3 Core (2021), section 6.2.3; [2] ``LiquidityAmounts.getLiquidityForAmounts``.
    """
    dt = v.infer_dtype(sqrt_prices, dtype)
    a = _range_arrays(
        [
            ("sqrt_prices", sqrt_prices),
            ("sqrt_prices_lower", sqrt_prices_lower),
            ("sqrt_prices_upper", sqrt_prices_upper),
            ("amounts0", amounts0),
            ("amounts1", amounts1),
        ],
        dt,
        non_negative=("amounts0", "amounts1"),
    )
    return _liquidity_jit(*a.values())


def amounts_for_liquidity(
    *,
    sqrt_prices: ArrayLike,
    sqrt_prices_lower: ArrayLike,
    sqrt_prices_upper: ArrayLike,
    liquidities: ArrayLike,
    dtype: DTypeLike | None = None,
) -> TokenAmounts:
    """Token amounts held by liquidity ``L`` on a price range at the current price.

    Formula: ``s_c = clip(s, s_a, s_b)``, ``x = L (s_b - s_c) / (s_c s_b)``,
    ``y = L (s_c - s_a)``: all token0 below the range, all token1 above it.

    Example:
        >>> from engines.amm import amounts_for_liquidity
        >>> amounts_for_liquidity(sqrt_prices=[0.5, 1.0, 2.0], sqrt_prices_lower=0.9,
        ...     sqrt_prices_upper=1.1, liquidities=10.0)
        TokenAmounts(amounts0=Array([2.02020202, 0.90909091, 0.        ], dtype=float64),
                     amounts1=Array([0., 1., 2.], dtype=float64))

    Args:
        sqrt_prices: ``[batch...]`` float, current ``sqrt P > 0``.
        sqrt_prices_lower: ``[batch...]`` float, ``s_a > 0``.
        sqrt_prices_upper: ``[batch...]`` float, ``s_b > s_a``.
        liquidities: ``[batch...]`` float, ``L > 0``.
        dtype: float32 or float64; default None meaning the dtype of ``sqrt_prices``.

    Returns:
        :class:`TokenAmounts` (``amounts0``, ``amounts1``), each ``[batch...]``.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError, InvalidRangeError.

    References:
        [1] Uniswap v3 Core (2021), eq. 6.29-6.30; [2] ``LiquidityAmounts.getAmountsForLiquidity``.
    """
    dt = v.infer_dtype(sqrt_prices, dtype)
    a = _range_arrays(
        [
            ("sqrt_prices", sqrt_prices),
            ("sqrt_prices_lower", sqrt_prices_lower),
            ("sqrt_prices_upper", sqrt_prices_upper),
            ("liquidities", liquidities),
        ],
        dt,
        non_negative=(),
    )
    return _amounts_jit(*a.values())


def concentrated_liquidity_swap(
    *,
    amounts_in: ArrayLike,
    sqrt_prices: ArrayLike,
    liquidities: ArrayLike,
    sqrt_prices_lower: ArrayLike,
    sqrt_prices_upper: ArrayLike,
    zero_for_one: ArrayLike | None = None,
    fees: ArrayLike = UNISWAP_V3_FEE,
    dtype: DTypeLike | None = None,
) -> ConcentratedSwap:
    """Exact-input swap against liquidity ``L`` that stays within one price range.

    Formula: ``n = a (1 - f)``.  Token0 in (``zero_for_one``): ``1/s' = 1/s + n/L``,
    out ``= L (s - s')`` of token1.  Token1 in: ``s' = s + n/L``, out
    ``= L (1/s - 1/s')`` of token0.  Where ``n`` exceeds what moves the price to the
    range end (``L (1/s_a - 1/s)`` resp. ``L (s_b - s)``), the swap stops there:
    ``s' = s_a`` (``s_b``), ``amounts_in_used = room / (1 - f)`` and ``within_range`` is
    False; the rest of the input would need the next range's liquidity.

    Example:
        >>> from engines.amm import concentrated_liquidity_swap
        >>> r = concentrated_liquidity_swap(amounts_in=[1.0, 5.0], sqrt_prices=1.0,
        ...     liquidities=100.0, sqrt_prices_lower=0.98, sqrt_prices_upper=1.02, fees=0.0)
        >>> r.amounts_out
        Array([0.99009901, 2.        ], dtype=float64)
        >>> r.sqrt_prices_after, r.within_range
        (Array([0.99009901, 0.98      ], dtype=float64), Array([ True, False], dtype=bool))

    Args:
        amounts_in: ``[batch...]`` float, tokens sold ``a >= 0`` (fee included).
        sqrt_prices: ``[batch...]`` float, current ``sqrt P``, within the range.
        liquidities: ``[batch...]`` float, active liquidity ``L > 0``.
        sqrt_prices_lower: ``[batch...]`` float, ``s_a > 0``.
        sqrt_prices_upper: ``[batch...]`` float, ``s_b > s_a``.
        zero_for_one: ``[batch...]`` bool, True to sell token0 for token1 (price falls);
            default None meaning True.
        fees: ``[batch...]`` float, fee fraction ``0 <= f < 1``; default 0.003.
        dtype: float32 or float64; default None meaning the dtype of ``amounts_in``.

    Returns:
        :class:`ConcentratedSwap` (``amounts_in_used``, ``amounts_out``,
        ``sqrt_prices_after``, ``within_range``).

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError,
        InvalidRangeError (range reversed or price outside it), ParameterRangeError.

    References:
        [1] Uniswap v3 Core (2021), eq. 6.13-6.16; [2] ``SwapMath.computeSwapStep``.
    """
    dt = v.infer_dtype(amounts_in, dtype)
    a = _range_arrays(
        [
            ("amounts_in", amounts_in),
            ("sqrt_prices", sqrt_prices),
            ("liquidities", liquidities),
            ("sqrt_prices_lower", sqrt_prices_lower),
            ("sqrt_prices_upper", sqrt_prices_upper),
            ("fees", fees),
        ],
        dt,
        non_negative=("amounts_in", "fees"),
    )
    v.check_below("fees", a["fees"], 1.0)
    v.check_within(
        "sqrt_prices",
        a["sqrt_prices"],
        "sqrt_prices_lower",
        a["sqrt_prices_lower"],
        "sqrt_prices_upper",
        a["sqrt_prices_upper"],
    )
    directions = jnp.asarray(True if zero_for_one is None else zero_for_one)
    if directions.dtype != jnp.bool_:
        raise UnsupportedDtypeError("zero_for_one must be a bool array (True sells token0)")
    v.broadcast_shape([("amounts_in", a["amounts_in"]), ("zero_for_one", directions)])
    return _swap_jit(
        a["amounts_in"],
        a["sqrt_prices"],
        a["liquidities"],
        a["sqrt_prices_lower"],
        a["sqrt_prices_upper"],
        directions,
        a["fees"],
    )
