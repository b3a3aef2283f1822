"""Fixed-rate bullet bonds: prices from a yield or a zero curve, durations and convexity.

A bond pays ``c F / f`` at each of its ``n`` coupon dates and ``F`` at maturity ``T``
(years); coupon dates fall every ``1/f`` years back from maturity, and the valuation date
lies in the first coupon period, so the flows are ``e_k = f T - k`` coupon periods away
(``k = 0..n-1``, ``n = ceil(f T)``; 30/360-style periods of exactly ``1/f`` years).

    dirty price  P(y) = sum_k A_k (1 + y/f)^(-e_k),     A_k = c F / f (+ F at maturity)
    accrued      AI = (c F / f) (1 - (f T - n + 1))      (elapsed part of the period)
    clean price  = P - AI
    from a zero curve:  P = sum_k A_k exp(-z(t_k) t_k),  t_k = e_k / f,
    z linearly interpolated between curve nodes (flat beyond them), continuously compounded.
    modified duration D = -P'(y) / P,   convexity C = P''(y) / P,   Macaulay = D (1 + y/f)

with ``y`` compounded ``f`` times a year (street convention).  Derivatives come from
``jax.grad`` of the price, not from closed forms.

References:
    [1] Fabozzi, F. (2012). Bond Markets, Analysis, and Strategies, 8th ed., ch. 2-4.
    [2] Tuckman, B., Serrat, A. (2022). Fixed Income Securities, 4th ed., ch. 3-4.
    [3] QuantLib: ``BondFunctions`` (cleanPrice, bondYield, duration, convexity).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, ShapeMismatchError
from engines.rates._cash_flows import (
    BondTerms,
    cash_flows,
    check_yields,
    dirty_price_from_yield,
    prepare_terms,
)

__all__ = [
    "BondPrices",
    "BondSensitivities",
    "bond_prices",
    "bond_prices_from_curve",
    "bond_sensitivities",
]


class BondPrices(NamedTuple):
    """Prices per bond, each ``[batch...]`` in the units of ``faces``."""

    dirty_prices: jax.Array
    clean_prices: jax.Array
    accrued_interest: jax.Array


class BondSensitivities(NamedTuple):
    """Dirty prices and yield sensitivities per bond, each ``[batch...]``.

    ``modified_durations`` and ``macaulay_durations`` are in years, ``convexities`` in
    years squared (per unit of yield).
    """

    dirty_prices: jax.Array
    modified_durations: jax.Array
    macaulay_durations: jax.Array
    convexities: jax.Array


@partial(jax.jit, static_argnames=("num_flows",))
def _prices_jit(terms: BondTerms, yields: jax.Array, num_flows: int) -> BondPrices:
    _, _, accrued = cash_flows(terms, num_flows)
    dirty = dirty_price_from_yield(terms, num_flows, yields)
    return BondPrices(dirty, dirty - accrued, accrued)


def bond_prices(
    *,
    yields: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    dtype: DTypeLike | None = None,
) -> BondPrices:
    """Dirty and clean prices of fixed-rate bonds from their yields to maturity.

    Formula: ``P = sum_k A_k (1 + y/f)^(-e_k)``, ``e_k = f T - k`` periods to each flow,
    ``A_k = c F / f`` plus ``F`` at maturity; ``clean = P - (c F / f)(1 - (f T - n + 1))``.

    Example:
        >>> from engines.rates import bond_prices
        >>> p = bond_prices(yields=0.04, coupon_rates=0.05, maturities=7 / 12)
        >>> round(float(p.clean_prices), 10), round(float(p.accrued_interest), 10)
        (100.5675103143, 2.0833333333)

    Args:
        yields: ``[batch...]`` float, yields to maturity compounded ``frequencies`` times a
            year, ``> -frequencies``.
        coupon_rates: ``[batch...]`` float, annual coupon rates ``>= 0`` (0.05 = 5%).
        maturities: ``[batch...]`` float, years to maturity ``> 0``.
        frequencies: ``[batch...]`` whole number of coupons a year; default 2.
        faces: ``[batch...]`` float, face (redemption) amounts ``> 0``; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``yields``.

    Returns:
        :class:`BondPrices` (``dirty_prices``, ``clean_prices``, ``accrued_interest``).

    References:
        [1] Fabozzi (2012), ch. 2; [3] QuantLib BondFunctions.cleanPrice.
    """
    terms, num_flows, arrays = prepare_terms(
        first=yields,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dtype,
        extra={"yields": yields},
    )
    check_yields("yields", arrays["yields"], terms.frequencies)
    return _prices_jit(terms, arrays["yields"], num_flows)


@partial(jax.jit, static_argnames=("num_flows",))
def _curve_prices_jit(
    terms: BondTerms, curve_times: jax.Array, zero_rates: jax.Array, num_flows: int
) -> BondPrices:
    periods, amounts, accrued = cash_flows(terms, num_flows)
    times = periods / terms.frequencies[..., None]
    shape = times.shape
    rates = jnp.broadcast_to(zero_rates, (*shape[:-1], zero_rates.shape[-1]))
    flat = jax.vmap(lambda t, z: jnp.interp(t, curve_times, z))(
        times.reshape(-1, shape[-1]), rates.reshape(-1, rates.shape[-1])
    )
    dirty = jnp.sum(amounts * jnp.exp(-flat.reshape(shape) * times), axis=-1)
    return BondPrices(dirty, dirty - accrued, accrued)


def bond_prices_from_curve(
    *,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    dtype: DTypeLike | None = None,
) -> BondPrices:
    """Dirty and clean prices of fixed-rate bonds discounted on a zero curve.

    Formula: ``P = sum_k A_k exp(-z(t_k) t_k)`` with ``z`` the continuously compounded zero
    rate linearly interpolated between ``curve_times`` (flat beyond the first and last).

    Example:
        >>> import numpy as np
        >>> from engines.rates import bond_prices_from_curve
        >>> p = bond_prices_from_curve(curve_times=np.array([0.5, 2.0]),
        ...                            zero_rates=np.array([0.03, 0.04]),
        ...                            coupon_rates=0.05, maturities=2.0)
        >>> round(float(p.dirty_prices), 8)
        101.86645847

    Args:
        curve_times: ``[num_nodes]`` float, increasing node times in years (``>= 0``).
        zero_rates: ``[batch..., num_nodes]`` float, continuously compounded zero rates;
            the leading axes broadcast against the bonds' ``[batch...]``.
        coupon_rates: ``[batch...]`` float, annual coupon rates ``>= 0``.
        maturities: ``[batch...]`` float, years to maturity ``> 0``.
        frequencies: ``[batch...]`` whole number of coupons a year; default 2.
        faces: ``[batch...]`` float, face amounts ``> 0``; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``zero_rates``.

    Returns:
        :class:`BondPrices` of the broadcast ``[batch...]`` shape.

    References:
        [2] Tuckman, Serrat (2022), ch. 2; [3] QuantLib ZeroCurve + DiscountingBondEngine.
    """
    dt = v.infer_dtype(zero_rates, dtype)
    times = v.as_array("curve_times", curve_times, dt)
    rates = v.as_array("zero_rates", zero_rates, dt)
    v.check_rank("curve_times", times, 1)
    if rates.ndim < 1 or rates.shape[-1] != times.shape[0]:
        raise ShapeMismatchError(
            f"zero_rates{tuple(rates.shape)} last axis must equal len(curve_times)"
        )
    v.check_all(
        finite=[("curve_times", times), ("zero_rates", rates)],
        non_negative_time=[("curve_times", times)],
    )
    if np.any(np.diff(np.asarray(times)) <= 0):
        raise ParameterRangeError("curve_times must be strictly increasing")
    terms, num_flows, _ = prepare_terms(
        first=rates,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dt,
        extra={"zero_rates[..., 0]": rates[..., 0]},
    )
    return _curve_prices_jit(terms, times, rates, num_flows)


@partial(jax.jit, static_argnames=("num_flows",))
def _sensitivities_jit(terms: BondTerms, yields: jax.Array, num_flows: int) -> BondSensitivities:
    # The price is elementwise in the bonds, so the gradient of the sum is each bond's dP/dy.
    def total(y: jax.Array) -> jax.Array:
        return jnp.sum(dirty_price_from_yield(terms, num_flows, y))

    prices = dirty_price_from_yield(terms, num_flows, yields)
    first = jax.grad(total)(yields)
    second = jax.grad(lambda y: jnp.sum(jax.grad(total)(y)))(yields)
    modified = -first / prices
    return BondSensitivities(
        prices, modified, modified * (1.0 + yields / terms.frequencies), second / prices
    )


def bond_sensitivities(
    *,
    yields: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    dtype: DTypeLike | None = None,
) -> BondSensitivities:
    """Modified and Macaulay durations and convexities of fixed-rate bonds by autodiff.

    Formula: ``D_mod = -P'(y) / P``, ``C = P''(y) / P``, ``D_mac = D_mod (1 + y/f)`` with
    ``P`` the dirty price of :func:`bond_prices`, differentiated with ``jax.grad``; so
    ``dP ~ -D_mod P dy + C P dy^2 / 2``.

    Example:
        >>> from engines.rates import bond_sensitivities
        >>> s = bond_sensitivities(yields=0.06, coupon_rates=0.06, maturities=10.0)
        >>> round(float(s.modified_durations), 8), round(float(s.convexities), 6)
        (7.43873743, 68.774822)

    Args:
        yields: ``[batch...]`` float, yields compounded ``frequencies`` times a year.
        coupon_rates: ``[batch...]`` float, annual coupon rates ``>= 0``.
        maturities: ``[batch...]`` float, years to maturity ``> 0``.
        frequencies: ``[batch...]`` whole number of coupons a year; default 2.
        faces: ``[batch...]`` float, face amounts ``> 0``; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``yields``.

    Returns:
        :class:`BondSensitivities` (``dirty_prices``, ``modified_durations``,
        ``macaulay_durations``, ``convexities``).

    References:
        [1] Fabozzi (2012), ch. 4; [2] Tuckman, Serrat (2022), ch. 4;
        [3] QuantLib BondFunctions.duration / convexity.
    """
    terms, num_flows, arrays = prepare_terms(
        first=yields,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dtype,
        extra={"yields": yields},
    )
    check_yields("yields", arrays["yields"], terms.frequencies)
    return _sensitivities_jit(terms, arrays["yields"], num_flows)
