"""Black-Scholes-Merton and Black-76 prices of European calls and puts.

All prices go through one branch-free kernel on the forward ``F`` and discount factor
``D = exp(-r T)``:

    d1 = ln(F / K) / (sigma sqrt(T)) + sigma sqrt(T) / 2,    d2 = d1 - sigma sqrt(T)
    call = D [F N(d1) - K N(d2)],    put = D [K N(-d2) - F N(-d1)]

with ``F = S exp((r - q) T)`` for Black-Scholes-Merton (spot ``S``, continuous dividend
yield ``q``) and ``F`` given directly for Black-76.  Where ``sigma sqrt(T) = 0`` (zero
volatility or zero expiry) the price is the discounted intrinsic value
``D max(+-(F - K), 0)``, selected with ``jnp.where`` so that values and derivatives stay
finite.  ``N`` is evaluated as ``erfc(-x / sqrt(2)) / 2``, accurate in both tails (in
float32 by the one-exponential Chebyshev fit of [5], relative error below 1.2e-7); its
derivative is the exact normal density, so autodiff Greeks use ``n(d)`` itself.

References:
    [1] Black, F., Scholes, M. (1973). The Pricing of Options and Corporate Liabilities.
        Journal of Political Economy 81(3).
    [2] Merton, R. C. (1973). Theory of Rational Option Pricing. Bell Journal of
        Economics 4(1).
    [3] Black, F. (1976). The pricing of commodity contracts. Journal of Financial
        Economics 3(1-2).
    [4] Hull, J. C. (2022). Options, Futures, and Other Derivatives, 11th ed., ch. 15, 18.
    [5] Press, W. et al. (1992). Numerical Recipes in C, 2nd ed., section 6.2, ``erfcc``
        (Chebyshev fit with fractional error below 1.2e-7 everywhere).
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

    @property
    def arrays(self) -> tuple[jax.Array, ...]:
        """The seven arrays, without the ``use_forwards`` flag."""
        return tuple(self[:7])


# Chebyshev fit of ln(erfc(z) / t) + z^2 in t = 1 / (1 + z/2) (Numerical Recipes, erfcc):
# relative error below 1.2e-7 for every z >= 0 [5], float32 precision for one exponential.
_ERFC_COEFFICIENTS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _erfc_float32(z: jax.Array) -> jax.Array:
    """``erfc(z)`` for ``z >= 0`` by the Chebyshev fit ``t exp(-z^2 + P(t))`` [5]."""
    t = 1 / (1 + 0.5 * z)
    poly = jnp.full_like(t, _ERFC_COEFFICIENTS[-1])
    for coefficient in _ERFC_COEFFICIENTS[-2::-1]:
        poly = poly * t + coefficient
    return t * jnp.exp(poly - z * z)


@jax.custom_jvp
def normal_cdf(x: jax.Array) -> jax.Array:
    """Standard normal CDF ``N(x) = erfc(-x / sqrt(2)) / 2``, relatively accurate in both tails.

    float64 uses XLA's ``erfc``; float32 the one-exponential Chebyshev fit of [5] (relative
    error < 1.2e-7, below float32 rounding).  The derivative is the exact density ``n(x)``.
    """
    if x.dtype == jnp.float64:
        return 0.5 * lax.erfc(-x * jnp.asarray(_INV_SQRT_2, x.dtype))
    half_tail = 0.5 * _erfc_float32(jnp.abs(x) * jnp.asarray(_INV_SQRT_2, x.dtype))
    return jnp.where(x < 0, half_tail, 1 - half_tail)


@normal_cdf.defjvp
def _normal_cdf_jvp(
    primals: tuple[jax.Array], tangents: tuple[jax.Array]
) -> tuple[jax.Array, jax.Array]:
    (x,), (x_dot,) = primals, tangents
    return normal_cdf(x), normal_pdf(x) * x_dot


def normal_pdf(x: jax.Array) -> jax.Array:
    """Standard normal density ``n(x) = exp(-x^2 / 2) / sqrt(2 pi)``."""
    return jnp.exp(-0.5 * x * x) * jnp.asarray(_INV_SQRT_2PI, x.dtype)


@jax.custom_jvp
def _signed_normal_cdf(signs: jax.Array, x: jax.Array) -> jax.Array:
    """``N(w x)`` for signs ``w = +-1``, whose derivative ``w n(x)`` is the density of ``x``
    itself: the Greeks then share ``n(d1)`` with the Black rule's ``dV/ds`` instead of
    also computing the equal ``n(-d1)``.
    """
    return normal_cdf(signs * x)


@_signed_normal_cdf.defjvp
def _signed_normal_cdf_jvp(
    primals: tuple[jax.Array, jax.Array], tangents: tuple[jax.Array, jax.Array]
) -> tuple[jax.Array, jax.Array]:
    (signs, x), (_, x_dot) = primals, tangents  # the signs are constants
    return _signed_normal_cdf(signs, x), signs * normal_pdf(x) * x_dot


def _black_terms(
    discounted_forwards: jax.Array,
    discounted_strikes: jax.Array,
    log_moneyness: jax.Array,
    std_devs: jax.Array,
    signs: jax.Array,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Black value ``w (DF N(w d1) - DK N(w d2))`` with ``d1``, ``N(w d1)``, ``N(w d2)``."""
    d1 = log_moneyness / std_devs + 0.5 * std_devs
    forward_weight = _signed_normal_cdf(signs, d1)
    strike_weight = _signed_normal_cdf(signs, d1 - std_devs)
    value = signs * (discounted_forwards * forward_weight - discounted_strikes * strike_weight)
    return value, d1, forward_weight, strike_weight


@jax.custom_jvp
def black_value(
    discounted_forwards: jax.Array,
    discounted_strikes: jax.Array,
    log_moneyness: jax.Array,
    std_devs: jax.Array,
    signs: jax.Array,
) -> jax.Array:
    """Black value on discounted forward ``DF``, discounted strike ``DK``, ``ln(F/K)``,
    total deviation ``s = sigma sqrt(T) > 0`` and ``w = +-1``, with its own JVP rule.

    The rule reuses ``d1`` and ``N`` of the value: ``dV/dDF = w N(w d1)``,
    ``dV/dDK = -w N(w d2)``, ``dV/ds = DF n(d1)`` and ``dV/dln(F/K) = 0`` (all by
    ``DF n(d1) = DK n(d2)``), so autodiff of the price needs one more exponential, and
    differentiating the rule again gives the second-order Greeks.
    """
    return _black_terms(discounted_forwards, discounted_strikes, log_moneyness, std_devs, signs)[0]


@black_value.defjvp
def _black_value_jvp(
    primals: tuple[jax.Array, ...], tangents: tuple[jax.Array, ...]
) -> tuple[jax.Array, jax.Array]:
    discounted_forwards, _, _, _, signs = primals
    forwards_dot, strikes_dot, _, std_devs_dot, _ = tangents
    value, d1, forward_weight, strike_weight = _black_terms(*primals)
    slope = signs * (forward_weight * forwards_dot - strike_weight * strikes_dot)
    return value, slope + discounted_forwards * normal_pdf(d1) * std_devs_dot


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
    """Branch-free price from spots (``use_forwards=False``) or forwards; traceable.

    Works on discounted forward ``D F`` (``S e^{-qT}`` or ``e^{-rT} F``) and discounted
    strike ``D K`` so that one pass needs two exponentials, one log and one square root
    besides the two CDFs; where ``sigma sqrt(T) = 0`` it returns ``max(+-(D F - D K), 0)``.
    """
    dtype = strikes.dtype
    positive_time = expiries > 0
    # sqrt'(0) is infinite: keep T = 0 out of it so that every derivative stays finite.
    safe_expiries = jnp.where(positive_time, expiries, jnp.ones_like(expiries))
    std_devs = volatilities * jnp.sqrt(safe_expiries)
    # sigma T > 0 implies sigma sqrt(T) > 0 (no underflow); deciding it from the inputs
    # leaves sigma sqrt(T) one user, so XLA fuses the whole price (or all its Greeks,
    # with engines._fusion.one_loop) into one loop.
    regular = volatilities * expiries > 0
    safe_std = jnp.where(regular, std_devs, jnp.ones_like(std_devs))
    discount_factors = jnp.exp(-discount_rates * expiries)
    if use_forwards:
        discounted_forwards = discount_factors * underlyings
        log_moneyness = jnp.log(underlyings / strikes)
    else:
        discounted_forwards = underlyings * jnp.exp(-dividend_rates * expiries)
        log_moneyness = (
            jnp.log(underlyings / strikes) + (discount_rates - dividend_rates) * expiries
        )
    discounted_strikes = discount_factors * strikes
    signs = jnp.where(is_call_options, jnp.ones((), dtype), -jnp.ones((), dtype))
    value = black_value(discounted_forwards, discounted_strikes, log_moneyness, safe_std, signs)
    intrinsic = _positive_part(signs * (discounted_forwards - discounted_strikes))
    return jnp.where(regular, value, intrinsic)


@jax.custom_jvp
def _positive_part(x: jax.Array) -> jax.Array:
    """``max(x, 0)``, whose derivative (1 above zero, 1/2 at zero, 0 below) is selected.

    ``jnp.maximum``'s own rule divides to split ties; XLA:CPU does not duplicate a
    division into several loops, so that one split the Greeks' loop in two.
    """
    return jnp.maximum(x, 0)


@_positive_part.defjvp
def _positive_part_jvp(
    primals: tuple[jax.Array], tangents: tuple[jax.Array]
) -> tuple[jax.Array, jax.Array]:
    (x,), (x_dot,) = primals, tangents
    slope = jnp.where(x > 0, 1.0, jnp.where(x == 0, 0.5, 0.0)).astype(x.dtype)
    return _positive_part(x), slope * x_dot


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
    # Elementwise throughout, so the result has the broadcast shape of all inputs.
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
    arrays = dict(
        v.as_arrays(
            [
                ("volatilities", 0.0 if volatilities is None else volatilities),
                ("strikes", strikes),
                ("expiries", expiries),
                (underlying_name, forwards if use_forwards else spots),  # type: ignore[list-item]
                ("discount_rates", 0.0 if discount_rates is None else discount_rates),
                ("dividend_rates", 0.0 if dividend_rates is None else dividend_rates),
            ],
            dt,
        )
    )
    calls = jnp.asarray(True if is_call_options is None else is_call_options)
    if calls.dtype != jnp.bool_:
        raise UnsupportedDtypeError("is_call_options must be a bool array (True for calls)")
    v.broadcast_shape([*arrays.items(), ("is_call_options", calls)])
    v.check_all(
        finite=list(arrays.items()),
        non_negative_volatility=[]
        if volatilities is None
        else [("volatilities", arrays["volatilities"])],
        non_negative_time=[("expiries", arrays["expiries"])],
        positive=[("strikes", arrays["strikes"]), (underlying_name, arrays[underlying_name])],
    )
    return OptionInputs(
        arrays["volatilities"],
        arrays["strikes"],
        arrays["expiries"],
        arrays[underlying_name],
        arrays["discount_rates"],
        arrays["dividend_rates"],
        calls,
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
