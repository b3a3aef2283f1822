"""Black-Scholes-Merton and Black-76 prices of European calls and puts.

All prices go through one branch-free kernel on the forward ``F`` and discount factor
``D = exp(-r T)``:

    d1 = ln(F / K) / (sigma sqrt(T)) + sigma sqrt(T) / 2,    d2 = d1 - sigma sqrt(T)
    call = D [F N(d1) - K N(d2)],    put = D [K N(-d2) - F N(-d1)]

with ``F = S exp((r - q) T)`` for Black-Scholes-Merton (spot ``S``, continuous dividend
yield ``q``) and ``F`` given directly for Black-76.  Where ``sigma sqrt(T) = 0`` (zero
volatility or zero expiry) the price is the discounted intrinsic value
``D max(+-(F - K), 0)``, selected with ``jnp.where`` so that values and derivatives stay
finite.  ``N`` is evaluated as ``erfc(-x / sqrt(2)) / 2``, accurate in both tails.

References:
    [1] Black, F., Scholes, M. (1973). The Pricing of Options and Corporate Liabilities.
        Journal of Political Economy 81(3).
    [2] Merton, R. C. (1973). Theory of Rational Option Pricing. Bell Journal of
        Economics 4(1).
    [3] Black, F. (1976). The pricing of commodity contracts. Journal of Financial
        Economics 3(1-2).
    [4] Hull, J. C. (2022). Options, Futures, and Other Derivatives, 11th ed., ch. 15, 18.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import (
    ConflictingArgumentsError,
    UnsupportedDtypeError,
)

__all__ = ["black76_price", "black_scholes_price", "option_price"]


class OptionInputs(NamedTuple):
    """Validated, broadcast option inputs (internal)."""

    volatilities: jax.Array
    strikes: jax.Array
    expiries: jax.Array
    underlyings: jax.Array
    discount_rates: jax.Array
    dividend_rates: jax.Array
    is_call_options: jax.Array
    use_forwards: bool


def normal_cdf(x: jax.Array) -> jax.Array:
    """Standard normal CDF ``N(x) = erfc(-x / sqrt(2)) / 2`` (relative accuracy in both tails)."""
    return 0.5 * lax.erfc(-x * jnp.asarray(0.7071067811865476, x.dtype))


def forward_price_kernel(
    volatilities: jax.Array,
    strikes: jax.Array,
    expiries: jax.Array,
    forwards: jax.Array,
    discount_factors: jax.Array,
    is_call_options: jax.Array,
) -> jax.Array:
    """Branch-free Black price on forwards; traceable, elementwise, limit-safe."""
    positive_time = expiries > 0
    safe_expiries = jnp.where(positive_time, expiries, jnp.ones_like(expiries))
    std_devs = volatilities * jnp.sqrt(safe_expiries)
    regular = positive_time & (std_devs > 0)
    safe_std = jnp.where(regular, std_devs, jnp.ones_like(std_devs))
    sign = jnp.where(is_call_options, 1.0, -1.0).astype(forwards.dtype)
    d1 = jnp.log(forwards / strikes) / safe_std + 0.5 * safe_std
    d2 = d1 - safe_std
    undiscounted = sign * (forwards * normal_cdf(sign * d1) - strikes * normal_cdf(sign * d2))
    intrinsic = jnp.maximum(sign * (forwards - strikes), 0.0)
    return discount_factors * jnp.where(regular, undiscounted, intrinsic)


def price_from_inputs(
    volatilities: jax.Array,
    strikes: jax.Array,
    expiries: jax.Array,
    underlyings: jax.Array,
    discount_rates: jax.Array,
    dividend_rates: jax.Array,
    is_call_options: jax.Array,
    use_forwards: bool,
) -> jax.Array:
    """Price from spots (``use_forwards=False``) or forwards; traceable, broadcasts inputs."""
    (
        volatilities,
        strikes,
        expiries,
        underlyings,
        discount_rates,
        dividend_rates,
        is_call_options,
    ) = jnp.broadcast_arrays(
        volatilities,
        strikes,
        expiries,
        underlyings,
        discount_rates,
        dividend_rates,
        is_call_options,
    )
    discount_factors = jnp.exp(-discount_rates * expiries)
    if use_forwards:
        forwards = underlyings
    else:
        forwards = underlyings * jnp.exp((discount_rates - dividend_rates) * expiries)
    return forward_price_kernel(
        volatilities, strikes, expiries, forwards, discount_factors, is_call_options
    )


@partial(jax.jit, static_argnames=("use_forwards",))
def _price_jit(
    volatilities: jax.Array,
    strikes: jax.Array,
    expiries: jax.Array,
    underlyings: jax.Array,
    discount_rates: jax.Array,
    dividend_rates: jax.Array,
    is_call_options: jax.Array,
    use_forwards: bool,
) -> jax.Array:
    return price_from_inputs(
        volatilities,
        strikes,
        expiries,
        underlyings,
        discount_rates,
        dividend_rates,
        is_call_options,
        use_forwards,
    )


def prepare_option_inputs(
    *,
    volatilities: ArrayLike | None,
    strikes: ArrayLike,
    expiries: ArrayLike,
    spots: ArrayLike | None,
    forwards: ArrayLike | None,
    discount_rates: ArrayLike | None,
    dividend_rates: ArrayLike | None,
    is_call_options: ArrayLike | None,
    dtype: DTypeLike | None,
    first: ArrayLike,
) -> OptionInputs:
    """Validate and broadcast option arguments outside jit (shared by all option engines)."""
    if (spots is None) == (forwards is None):
        raise ConflictingArgumentsError(
            "pass exactly one of spots= (Black-Scholes) or forwards= (Black-76)"
        )
    if forwards is not None and dividend_rates is not None:
        raise ConflictingArgumentsError(
            "dividend_rates apply to spots only; fold dividends into forwards for Black-76"
        )
    dt = v.infer_dtype(first, dtype)
    use_forwards = forwards is not None
    underlying_name = "forwards" if use_forwards else "spots"
    underlying_raw = forwards if use_forwards else spots
    assert underlying_raw is not None
    named = [
        (
            "volatilities",
            v.as_array("volatilities", 0.0 if volatilities is None else volatilities, dt),
        ),
        ("strikes", v.as_array("strikes", strikes, dt)),
        ("expiries", v.as_array("expiries", expiries, dt)),
        (underlying_name, v.as_array(underlying_name, underlying_raw, dt)),
        (
            "discount_rates",
            v.as_array("discount_rates", 0.0 if discount_rates is None else discount_rates, dt),
        ),
        (
            "dividend_rates",
            v.as_array("dividend_rates", 0.0 if dividend_rates is None else dividend_rates, dt),
        ),
    ]
    calls = jnp.asarray(True if is_call_options is None else is_call_options)
    if calls.dtype != jnp.bool_:
        raise UnsupportedDtypeError("is_call_options must be a bool array (True for calls)")
    shape = v.broadcast_shape([*named, ("is_call_options", calls)])
    arrays = dict(named)
    v.check_all(
        finite=named,
        non_negative_volatility=[("volatilities", arrays["volatilities"])]
        if volatilities is not None
        else [],
        non_negative_time=[("expiries", arrays["expiries"])],
        positive=[("strikes", arrays["strikes"]), (underlying_name, arrays[underlying_name])],
    )
    del shape
    b = arrays
    calls_b = calls
    return OptionInputs(
        b["volatilities"],
        b["strikes"],
        b["expiries"],
        b[underlying_name],
        b["discount_rates"],
        b["dividend_rates"],
        calls_b,
        use_forwards,
    )


def option_price(
    *,
    volatilities: ArrayLike,
    strikes: ArrayLike,
    expiries: ArrayLike,
    spots: ArrayLike | None = None,
    forwards: ArrayLike | None = None,
    discount_rates: ArrayLike | None = None,
    dividend_rates: ArrayLike | None = None,
    is_call_options: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Black-Scholes-Merton (``spots=``) or Black-76 (``forwards=``) European option prices.

    Formula (``D = exp(-r T)``, ``F = S exp((r - q) T)`` or the given forward):

        call = D [F N(d1) - K N(d2)],  put = D [K N(-d2) - F N(-d1)],
        d1 = ln(F/K) / (sigma sqrt T) + sigma sqrt(T) / 2,  d2 = d1 - sigma sqrt T.

    Zero volatility or zero expiry gives the discounted intrinsic value ``D max(+-(F-K), 0)``.

    Example:
        >>> import numpy as np
        >>> from engines.options import option_price
        >>> option_price(volatilities=np.array([0.2, 0.2]), strikes=np.array([100.0, 100.0]),
        ...              expiries=np.array([1.0, 1.0]), spots=np.array([100.0, 100.0]),
        ...              discount_rates=0.05, is_call_options=np.array([True, False]))
        Array([10.45058357,  5.57352602], dtype=float64)

    Args:
        volatilities: ``[batch...]`` float, annualised Black volatilities ``sigma >= 0``.
        strikes: ``[batch...]`` float, strikes ``K > 0``.
        expiries: ``[batch...]`` float, year fractions ``T >= 0``.
        spots: ``[batch...]`` float, spot prices ``S > 0``; default None. Give exactly one
            of ``spots`` or ``forwards``.
        forwards: ``[batch...]`` float, forward prices ``F > 0`` (Black-76); default None.
        discount_rates: ``[batch...]`` float, continuously compounded risk-free rates ``r``;
            default None meaning 0.
        dividend_rates: ``[batch...]`` float, continuous dividend yields ``q`` (spots only);
            default None meaning 0.
        is_call_options: ``[batch...]`` bool, True for calls; default None meaning all calls.
        dtype: float32 or float64; default None meaning the dtype of ``volatilities``
            (float64 for Python scalars and lists).

    Returns:
        ``[batch...]`` array of option prices in ``dtype``; all arguments broadcast.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NegativeVolatilityError,
        NegativeExpiryError, NonPositiveValueError (from :mod:`engines.errors`).

    References:
        [1] Black, F., Scholes, M. (1973). Journal of Political Economy 81(3).
        [2] Merton, R. C. (1973). Bell Journal of Economics 4(1).
        [3] Black, F. (1976). Journal of Financial Economics 3(1-2).
    """
    x = prepare_option_inputs(
        volatilities=volatilities,
        strikes=strikes,
        expiries=expiries,
        spots=spots,
        forwards=forwards,
        discount_rates=discount_rates,
        dividend_rates=dividend_rates,
        is_call_options=is_call_options,
        dtype=dtype,
        first=volatilities,
    )
    return _price_jit(*x)


def black_scholes_price(
    *,
    volatilities: ArrayLike,
    strikes: ArrayLike,
    expiries: ArrayLike,
    spots: ArrayLike,
    discount_rates: ArrayLike | None = None,
    dividend_rates: ArrayLike | None = None,
    is_call_options: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Black-Scholes-Merton price of European options on a dividend-paying spot.

    Formula: ``call = S e^{-qT} N(d1) - K e^{-rT} N(d2)``,
    ``put = K e^{-rT} N(-d2) - S e^{-qT} N(-d1)``,
    ``d1 = [ln(S/K) + (r - q + sigma^2/2) T] / (sigma sqrt T)``, ``d2 = d1 - sigma sqrt T``.

    Example:
        >>> from engines.options import black_scholes_price
        >>> black_scholes_price(volatilities=0.25, strikes=95.0, expiries=0.5, spots=100.0,
        ...                     discount_rates=0.03, dividend_rates=0.01)
        Array(10.16102767, dtype=float64)

    Args:
        volatilities: ``[batch...]`` float, ``sigma >= 0``.
        strikes: ``[batch...]`` float, ``K > 0``.
        expiries: ``[batch...]`` float, ``T >= 0`` in years.
        spots: ``[batch...]`` float, ``S > 0``.
        discount_rates: ``[batch...]`` float, ``r``; default None meaning 0.
        dividend_rates: ``[batch...]`` float, ``q``; default None meaning 0.
        is_call_options: ``[batch...]`` bool; default None meaning calls.
        dtype: float32 or float64; default None meaning the dtype of ``volatilities``.

    Returns:
        ``[batch...]`` prices.

    References:
        [1] Black, Scholes (1973); [2] Merton (1973); [3] Hull (2022), ch. 15.
    """
    return option_price(
        volatilities=volatilities,
        strikes=strikes,
        expiries=expiries,
        spots=spots,
        discount_rates=discount_rates,
        dividend_rates=dividend_rates,
        is_call_options=is_call_options,
        dtype=dtype,
    )


def black76_price(
    *,
    volatilities: ArrayLike,
    strikes: ArrayLike,
    expiries: ArrayLike,
    forwards: ArrayLike,
    discount_rates: ArrayLike | None = None,
    is_call_options: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Black-76 price of European options on a forward or futures price.

    Formula: ``call = e^{-rT} [F N(d1) - K N(d2)]``, ``put = e^{-rT} [K N(-d2) - F N(-d1)]``,
    ``d1 = [ln(F/K) + sigma^2 T / 2] / (sigma sqrt T)``, ``d2 = d1 - sigma sqrt T``.

    Example:
        >>> from engines.options import black76_price
        >>> black76_price(volatilities=0.3, strikes=50.0, expiries=2.0, forwards=55.0,
        ...               discount_rates=0.04, is_call_options=False)
        Array(6.03524229, dtype=float64)

    Args:
        volatilities: ``[batch...]`` float, ``sigma >= 0``.
        strikes: ``[batch...]`` float, ``K > 0``.
        expiries: ``[batch...]`` float, ``T >= 0`` in years.
        forwards: ``[batch...]`` float, ``F > 0``.
        discount_rates: ``[batch...]`` float, ``r``; default None meaning 0.
        is_call_options: ``[batch...]`` bool; default None meaning calls.
        dtype: float32 or float64; default None meaning the dtype of ``volatilities``.

    Returns:
        ``[batch...]`` prices.

    References:
        [1] Black, F. (1976). Journal of Financial Economics 3(1-2); [2] Hull (2022), ch. 18.
    """
    return option_price(
        volatilities=volatilities,
        strikes=strikes,
        expiries=expiries,
        forwards=forwards,
        discount_rates=discount_rates,
        is_call_options=is_call_options,
        dtype=dtype,
    )
