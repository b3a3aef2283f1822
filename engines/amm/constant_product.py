"""Uniswap v2 constant-product pools: quotes, price impact and impermanent loss.

A pool holds reserves ``x`` of the token sold and ``y`` of the token bought and trades so
that ``x y`` does not fall; the fee ``f`` (0.3% on Uniswap v2) is kept back from the
input and stays in the pool, so ``k = x y`` grows with every trade:

    out(a) = a (1 - f) y / (x + a (1 - f))           (exact input ``a``)
    in(b)  = x b / ((y - b) (1 - f)),  b < y          (exact output ``b``)
    impact(a) = 1 - (out / a) / (y / x) = 1 - (1 - f) x / (x + a (1 - f))
    IL(r) = 2 sqrt(r) / (1 + r) - 1                   (LP value / held value - 1)

The contracts compute in integers: ``getAmountOut`` rounds ``out`` down and
``getAmountIn`` returns ``floor(in) + 1``; these functions return the exact real values,
from which the contract's integers follow by that rounding.

References:
    [1] Adams, H., Zinsmeister, N., Robinson, D. (2020). Uniswap v2 Core (whitepaper).
    [2] Uniswap v2 periphery, ``UniswapV2Library.getAmountOut`` / ``getAmountIn``.
    [3] Pintail (2019). Uniswap: A Good Deal for Liquidity Providers? (impermanent loss).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v

__all__ = [
    "constant_product_amount_in",
    "constant_product_amount_out",
    "constant_product_price_impact",
    "impermanent_loss",
]

UNISWAP_V2_FEE = 0.003


def _prepare(
    first: ArrayLike,
    dtype: DTypeLike | None,
    *,
    amounts: tuple[str, ArrayLike],
    reserves: list[tuple[str, ArrayLike]],
    fees: ArrayLike,
) -> list[jax.Array]:
    """Convert, broadcast-check and validate ``amounts >= 0``, reserves > 0, ``0 <= f < 1``."""
    dt = v.infer_dtype(first, dtype)
    named = v.as_arrays([amounts, *reserves, ("fees", fees)], dt)
    v.check_all(finite=named, non_negative=[named[0], named[-1]], positive=named[1:-1])
    v.check_below("fees", named[-1][1], 1.0)
    return [a for _, a in named]


@jax.jit
def _amount_out_jit(
    amounts_in: jax.Array, reserves_in: jax.Array, reserves_out: jax.Array, fees: jax.Array
) -> jax.Array:
    net_in = amounts_in * (1 - fees)
    return net_in * reserves_out / (reserves_in + net_in)


@jax.jit
def _amount_in_jit(
    amounts_out: jax.Array, reserves_in: jax.Array, reserves_out: jax.Array, fees: jax.Array
) -> jax.Array:
    payable = amounts_out < reserves_out
    remaining = jnp.where(payable, reserves_out - amounts_out, 1)
    needed = reserves_in * amounts_out / (remaining * (1 - fees))
    return jnp.where(payable, needed, jnp.inf)


@jax.jit
def _price_impact_jit(amounts_in: jax.Array, reserves_in: jax.Array, fees: jax.Array) -> jax.Array:
    net_in = amounts_in * (1 - fees)
    # 1 - (1 - f) x / (x + a (1 - f)) without cancellation for small trades.
    return (net_in + fees * reserves_in) / (reserves_in + net_in)


@jax.jit
def _impermanent_loss_jit(price_ratios: jax.Array) -> jax.Array:
    root = jnp.sqrt(price_ratios)
    # 2 sqrt(r) / (1 + r) - 1 = -(1 - sqrt(r))^2 / (1 + r), exact near r = 1.
    return 0 - jnp.square(1 - root) / (1 + price_ratios)


def constant_product_amount_out(
    *,
    amounts_in: ArrayLike,
    reserves_in: ArrayLike,
    reserves_out: ArrayLike,
    fees: ArrayLike = UNISWAP_V2_FEE,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Tokens received for an exact input in a constant-product pool (Uniswap v2).

    Formula: ``out = a (1 - f) y / (x + a (1 - f))`` with ``x = reserves_in``,
    ``y = reserves_out``; afterwards ``(x + a)(y - out) >= x y`` (equal when ``f = 0``).

    Example:
        >>> from engines.amm import constant_product_amount_out
        >>> constant_product_amount_out(amounts_in=1.0, reserves_in=100.0, reserves_out=200.0)
        Array(1.97431607, dtype=float64)

    Args:
        amounts_in: ``[batch...]`` float, tokens sold ``a >= 0``.
        reserves_in: ``[batch...]`` float, pool reserve of the token sold ``x > 0``.
        reserves_out: ``[batch...]`` float, pool reserve of the token bought ``y > 0``.
        fees: ``[batch...]`` float, fee fraction ``0 <= f < 1``; default 0.003 (Uniswap v2).
        dtype: float32 or float64; default None meaning the dtype of ``amounts_in``
            (float64 for Python scalars and lists).

    Returns:
        ``[batch...]`` tokens received (exact; the contract rounds down).

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError, ParameterRangeError.

    References:
        [1] Adams, Zinsmeister, Robinson (2020), Uniswap v2 Core, 3.2.1;
        [2] ``UniswapV2Library.getAmountOut``.
    """
    args = _prepare(
        amounts_in,
        dtype,
        amounts=("amounts_in", amounts_in),
        reserves=[("reserves_in", reserves_in), ("reserves_out", reserves_out)],
        fees=fees,
    )
    return _amount_out_jit(*args)


def constant_product_amount_in(
    *,
    amounts_out: ArrayLike,
    reserves_in: ArrayLike,
    reserves_out: ArrayLike,
    fees: ArrayLike = UNISWAP_V2_FEE,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Tokens to sell for an exact output from a constant-product pool (Uniswap v2).

    Formula: ``in = x b / ((y - b)(1 - f))`` for ``b < y``; ``+inf`` where ``b >= y``
    (the pool cannot pay that much).  Inverse of :func:`constant_product_amount_out`.

    Example:
        >>> from engines.amm import constant_product_amount_in
        >>> constant_product_amount_in(amounts_out=2.0, reserves_in=100.0, reserves_out=200.0)
        Array(1.01314043, dtype=float64)

    Args:
        amounts_out: ``[batch...]`` float, tokens wanted ``b >= 0``.
        reserves_in: ``[batch...]`` float, pool reserve of the token sold ``x > 0``.
        reserves_out: ``[batch...]`` float, pool reserve of the token bought ``y > 0``.
        fees: ``[batch...]`` float, fee fraction ``0 <= f < 1``; default 0.003.
        dtype: float32 or float64; default None meaning the dtype of ``amounts_out``.

    Returns:
        ``[batch...]`` tokens to sell (exact; the contract returns ``floor(in) + 1``),
        ``+inf`` where ``amounts_out >= reserves_out``.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError, ParameterRangeError.

    References:
        [1] Adams, Zinsmeister, Robinson (2020), Uniswap v2 Core;
        [2] ``UniswapV2Library.getAmountIn``.
    """
    args = _prepare(
        amounts_out,
        dtype,
        amounts=("amounts_out", amounts_out),
        reserves=[("reserves_in", reserves_in), ("reserves_out", reserves_out)],
        fees=fees,
    )
    return _amount_in_jit(*args)


def constant_product_price_impact(
    *,
    amounts_in: ArrayLike,
    reserves_in: ArrayLike,
    fees: ArrayLike = UNISWAP_V2_FEE,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Price impact of an exact-input trade: shortfall of the execution price vs mid price.

    Formula: ``impact = 1 - (out / a) / (y / x) = (a (1 - f) + f x) / (x + a (1 - f))``
    (the reserve of the token bought cancels).  It includes the fee, so a vanishing trade
    has impact ``f``; pass ``fees=0`` for the curve's impact ``a / (x + a)`` alone.

    Example:
        >>> from engines.amm import constant_product_price_impact
        >>> constant_product_price_impact(amounts_in=[1.0, 10.0], reserves_in=100.0, fees=0.0)
        Array([0.00990099, 0.09090909], dtype=float64)

    Args:
        amounts_in: ``[batch...]`` float, tokens sold ``a >= 0``.
        reserves_in: ``[batch...]`` float, pool reserve of the token sold ``x > 0``.
        fees: ``[batch...]`` float, fee fraction ``0 <= f < 1``; default 0.003.
        dtype: float32 or float64; default None meaning the dtype of ``amounts_in``.

    Returns:
        ``[batch...]`` price impact as a fraction in ``[f, 1)``.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError, ParameterRangeError.

    References:
        [1] Adams, Zinsmeister, Robinson (2020), Uniswap v2 Core;
        [2] Uniswap v2 SDK, ``computePriceImpact``.
    """
    args = _prepare(
        amounts_in,
        dtype,
        amounts=("amounts_in", amounts_in),
        reserves=[("reserves_in", reserves_in)],
        fees=fees,
    )
    return _price_impact_jit(*args)


def impermanent_loss(*, price_ratios: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Impermanent loss of a constant-product LP position against holding the deposit.

    Formula: with ``r = P_new / P_old`` the relative price change of the pair (fees
    ignored), ``IL(r) = V_LP / V_hold - 1 = 2 sqrt(r) / (1 + r) - 1
    = -(1 - sqrt r)^2 / (1 + r) <= 0``; ``IL(r) = IL(1/r)``.

    Example:
        >>> from engines.amm import impermanent_loss
        >>> impermanent_loss(price_ratios=[1.0, 1.25, 2.0, 4.0])
        Array([ 0.        , -0.00619201, -0.05719096, -0.2       ], dtype=float64)

    Args:
        price_ratios: ``[batch...]`` float, price at exit over price at deposit ``r > 0``.
        dtype: float32 or float64; default None meaning the dtype of ``price_ratios``.

    Returns:
        ``[batch...]`` loss as a fraction of the held value (``<= 0``).

    Raises:
        NonFiniteInputError, NonPositiveValueError.

    References:
        [3] Pintail (2019), Uniswap: A Good Deal for Liquidity Providers?;
        [1] Adams, Zinsmeister, Robinson (2020), Uniswap v2 Core.
    """
    dt = v.infer_dtype(price_ratios, dtype)
    ratios = v.as_array("price_ratios", price_ratios, dt)
    v.check_all(finite=[("price_ratios", ratios)], positive=[("price_ratios", ratios)])
    return _impermanent_loss_jit(ratios)
