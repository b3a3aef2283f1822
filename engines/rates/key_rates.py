"""Bond portfolios under yield-curve shocks: parallel, steepener, flattener, key-rate.

A scenario gives shocks ``s_j`` (basis points) at key tenors ``K_j``; the shock at any time
is their linear interpolation (flat beyond the first and last key), added to the
continuously compounded zero curve at every cash-flow time:

    s(t) = interp(t; K, s) / 10^4,     V(s) = sum_b q_b sum_k A_bk exp(-(z(t_bk) + s(t_bk)) t_bk)

A unit shock at one key tenor is a "tent": 1 at ``K_j``, falling linearly to 0 at the
neighbouring keys, so it moves only the cash flows between them, and the tents of all keys
add up to a parallel shift [1].  Key-rate durations are ``KRD_j = -(1/V) dV/ds_j`` per unit
of rate, taken by autodiff; they sum to the portfolio's effective (Fisher-Weil) duration.

References:
    [1] Ho, T. (1992). Key Rate Durations: Measures of Interest Rate Risks. Journal of
        Fixed Income 2(2).
    [2] Tuckman, B., Serrat, A. (2022). Fixed Income Securities, 4th ed., ch. 5.
    [3] Basel Committee on Banking Supervision (2016). Interest rate risk in the banking
        book, Annex 2 (parallel, steepener, flattener and short-rate shock scenarios).
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
from engines.rates._cash_flows import BondTerms, cash_flows, prepare_terms

__all__ = [
    "CurveShocks",
    "KeyRateDurations",
    "PortfolioShockResult",
    "key_rate_durations",
    "shocked_portfolio_values",
    "standard_curve_shocks",
]


class CurveShocks(NamedTuple):
    """Named shock scenarios: ``shocks_bp[i]`` is scenario ``names[i]`` at the key tenors."""

    names: tuple[str, ...]
    shocks_bp: jax.Array


class PortfolioShockResult(NamedTuple):
    """Portfolio values under shock scenarios.

    Attributes:
        base_value: scalar, the portfolio's value on the unshocked curve.
        shocked_values: ``[scenarios...]`` values on the shocked curves.
        value_changes: ``[scenarios...]`` ``shocked_values - base_value``.
        bond_value_changes: ``[scenarios..., num_bonds]`` each position's change
            (quantity times price change).
    """

    base_value: jax.Array
    shocked_values: jax.Array
    value_changes: jax.Array
    bond_value_changes: jax.Array


class KeyRateDurations(NamedTuple):
    """Key-rate durations (years) of the portfolio ``[num_keys]`` and of each bond.

    The portfolio's are value-weighted, undefined (inf or NaN) for a portfolio worth 0.
    """

    portfolio: jax.Array
    bonds: jax.Array


class _Portfolio(NamedTuple):
    terms: BondTerms
    quantities: jax.Array
    key_tenors: jax.Array
    curve_times: jax.Array
    zero_rates: jax.Array


def _bond_prices(p: _Portfolio, shocks_bp: jax.Array, num_flows: int) -> jax.Array:
    """``[num_bonds]`` dirty prices on the curve shocked by ``shocks_bp [num_keys]``."""
    periods, amounts, _ = cash_flows(p.terms, num_flows)
    times = periods / p.terms.frequencies[:, None]
    zero = jnp.interp(times, p.curve_times, p.zero_rates)
    shock = jnp.interp(times, p.key_tenors, shocks_bp) * 1e-4
    return jnp.sum(amounts * jnp.exp(-(zero + shock) * times), axis=-1)


@partial(jax.jit, static_argnames=("num_flows",))
def _shock_jit(p: _Portfolio, shocks_bp: jax.Array, num_flows: int) -> PortfolioShockResult:
    base = p.quantities * _bond_prices(p, jnp.zeros_like(p.key_tenors), num_flows)
    flat = shocks_bp.reshape(-1, shocks_bp.shape[-1])
    shocked = jax.vmap(lambda s: p.quantities * _bond_prices(p, s, num_flows))(flat)
    shocked = shocked.reshape(*shocks_bp.shape[:-1], base.shape[0])
    total = jnp.sum(shocked, -1)
    return PortfolioShockResult(jnp.sum(base), total, total - jnp.sum(base), shocked - base)


@partial(jax.jit, static_argnames=("num_flows",))
def _krd_jit(p: _Portfolio, num_flows: int) -> KeyRateDurations:
    zero = jnp.zeros_like(p.key_tenors)
    prices = _bond_prices(p, zero, num_flows)
    per_bp = jax.jacfwd(lambda s: _bond_prices(p, s, num_flows))(zero)  # [bonds, keys]
    portfolio = p.quantities @ per_bp / (p.quantities @ prices)
    return KeyRateDurations(-1e4 * portfolio, -1e4 * per_bp / prices[:, None])


def _prepare(
    *,
    key_tenors: ArrayLike,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    quantities: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike,
    faces: ArrayLike,
    dtype: DTypeLike | None,
) -> tuple[_Portfolio, int]:
    dt = v.infer_dtype(zero_rates, dtype)
    keys = v.as_array("key_tenors", key_tenors, dt)
    times = v.as_array("curve_times", curve_times, dt)
    rates = v.as_array("zero_rates", zero_rates, dt)
    for name, x in (("key_tenors", keys), ("curve_times", times), ("zero_rates", rates)):
        v.check_rank(name, x, 1)
    v.check_same_shape("curve_times", times, "zero_rates", rates)
    v.check_all(
        finite=[("key_tenors", keys), ("curve_times", times), ("zero_rates", rates)],
        non_negative_time=[("key_tenors", keys), ("curve_times", times)],
    )
    for name, x in (("key_tenors", keys), ("curve_times", times)):
        if np.any(np.diff(np.asarray(x)) <= 0):
            raise ParameterRangeError(f"{name} must be strictly increasing")
    terms, num_flows, arrays = prepare_terms(
        first=rates,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dt,
        extra={"quantities": quantities},
    )
    if arrays["quantities"].ndim != 1:
        raise ShapeMismatchError("the portfolio's bond terms and quantities must be 1-D")
    return _Portfolio(terms, arrays["quantities"], keys, times, rates), num_flows


def shocked_portfolio_values(
    *,
    shocks_bp: ArrayLike,
    key_tenors: ArrayLike,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    quantities: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    dtype: DTypeLike | None = None,
) -> PortfolioShockResult:
    """Value of a bond portfolio under many key-rate shock scenarios at once.

    Formula: ``V(s) = sum_b q_b sum_k A_bk exp(-(z(t_bk) + interp(t_bk; K, s) 1e-4) t_bk)``
    with ``z`` the zero curve linearly interpolated (flat beyond its nodes), and
    ``value_changes = V(s) - V(0)``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import shocked_portfolio_values, standard_curve_shocks
        >>> keys = np.array([2.0, 5.0, 10.0, 30.0])
        >>> shocks = standard_curve_shocks(key_tenors=keys)
        >>> r = shocked_portfolio_values(
        ...     shocks_bp=shocks.shocks_bp[:4], key_tenors=keys,
        ...     curve_times=np.array([0.0, 30.0]), zero_rates=np.array([0.04, 0.04]),
        ...     quantities=np.array([10.0, -5.0]), coupon_rates=np.array([0.05, 0.03]),
        ...     maturities=np.array([10.0, 2.0]))
        >>> shocks.names[:4], np.round(r.value_changes, 4)
        (('parallel_up', 'parallel_down', 'steepener', 'flattener'), Array([-140.3284,  171.7754,
        -85.0643,   55.6927], dtype=float64))

    Args:
        shocks_bp: ``[scenarios..., num_keys]`` float, shocks in basis points at the keys.
        key_tenors: ``[num_keys]`` float, increasing key tenors in years.
        curve_times: ``[num_nodes]`` float, increasing zero-curve node times in years.
        zero_rates: ``[num_nodes]`` float, continuously compounded zero rates.
        quantities: ``[num_bonds]`` float, number of bonds held (negative for shorts).
        coupon_rates: ``[num_bonds]`` float, annual coupon rates ``>= 0``.
        maturities: ``[num_bonds]`` float, years to maturity ``> 0``.
        frequencies: ``[num_bonds]`` whole number of coupons a year; default 2.
        faces: ``[num_bonds]`` float, face amounts ``> 0``; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``zero_rates``.

    Returns:
        :class:`PortfolioShockResult`.

    References:
        [1] Ho (1992), Journal of Fixed Income 2(2); [2] Tuckman, Serrat (2022), ch. 5.
    """
    portfolio, num_flows = _prepare(
        key_tenors=key_tenors,
        curve_times=curve_times,
        zero_rates=zero_rates,
        quantities=quantities,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dtype,
    )
    shocks = v.as_array("shocks_bp", shocks_bp, portfolio.zero_rates.dtype)
    if shocks.ndim < 1 or shocks.shape[-1] != portfolio.key_tenors.shape[0]:
        raise ShapeMismatchError(
            f"shocks_bp{tuple(shocks.shape)} last axis must equal len(key_tenors)"
        )
    v.check_finite("shocks_bp", shocks)
    return _shock_jit(portfolio, shocks, num_flows)


def key_rate_durations(
    *,
    key_tenors: ArrayLike,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    quantities: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    dtype: DTypeLike | None = None,
) -> KeyRateDurations:
    """Key-rate durations of a bond portfolio and of each bond, by autodiff.

    Formula: ``KRD_j = -(1/V) dV/ds_j`` per unit of rate (``s_j`` the tent shock at key
    ``j`` of :func:`shocked_portfolio_values`); ``sum_j KRD_j`` is the duration to a
    parallel shift of the zero curve.

    Example:
        >>> import numpy as np
        >>> from engines.rates import key_rate_durations
        >>> d = key_rate_durations(key_tenors=np.array([1.0, 5.0, 10.0]),
        ...     curve_times=np.array([0.0, 30.0]), zero_rates=np.array([0.03, 0.03]),
        ...     quantities=np.array([1.0]), coupon_rates=np.array([0.0]),
        ...     maturities=np.array([5.0]))
        >>> np.round(d.portfolio, 10) + 0.0
        Array([0., 5., 0.], dtype=float64)

    Args:
        key_tenors: ``[num_keys]`` float, increasing key tenors in years.
        curve_times: ``[num_nodes]`` float, increasing zero-curve node times in years.
        zero_rates: ``[num_nodes]`` float, continuously compounded zero rates.
        quantities: ``[num_bonds]`` float, number of bonds held.
        coupon_rates: ``[num_bonds]`` float, annual coupon rates ``>= 0``.
        maturities: ``[num_bonds]`` float, years to maturity ``> 0``.
        frequencies: ``[num_bonds]`` whole number of coupons a year; default 2.
        faces: ``[num_bonds]`` float, face amounts ``> 0``; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``zero_rates``.

    Returns:
        :class:`KeyRateDurations` (``portfolio [num_keys]``, ``bonds [num_bonds, num_keys]``).

    References:
        [1] Ho (1992), Journal of Fixed Income 2(2).
    """
    portfolio, num_flows = _prepare(
        key_tenors=key_tenors,
        curve_times=curve_times,
        zero_rates=zero_rates,
        quantities=quantities,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dtype,
    )
    return _krd_jit(portfolio, num_flows)


def standard_curve_shocks(
    *,
    key_tenors: ArrayLike,
    parallel_bp: float = 200.0,
    short_bp: float = 300.0,
    long_bp: float = 150.0,
    key_bp: float = 100.0,
    dtype: DTypeLike | None = None,
) -> CurveShocks:
    """The Basel IRRBB shock scenarios (USD sizes by default) plus one tent shock per key.

    Formula (``K`` the key tenor in years, ``d = exp(-K / 4)``): ``parallel_up/down = +-P``;
    ``steepener = -0.65 S d + 0.9 L (1 - d)``; ``flattener = 0.8 S d - 0.6 L (1 - d)``;
    ``short_up/down = +-S d``; ``key_<K_j>y`` is ``key_bp`` at key ``j``, 0 at the others.

    Example:
        >>> import numpy as np
        >>> from engines.rates import standard_curve_shocks
        >>> s = standard_curve_shocks(key_tenors=np.array([1.0, 10.0]))
        >>> s.names[2:4], s.names[6:]
        (('steepener', 'flattener'), ('key_1y', 'key_10y'))
        >>> np.round(s.shocks_bp[2:4], 2)
        Array([[-122.  ,  107.91],
               [ 167.  ,  -62.91]], dtype=float64)

    Args:
        key_tenors: ``[num_keys]`` float, increasing key tenors in years.
        parallel_bp: float, parallel shock ``P`` in bp; default 200 (USD).
        short_bp: float, short-rate shock ``S`` in bp; default 300 (USD).
        long_bp: float, long-rate shock ``L`` in bp; default 150 (USD).
        key_bp: float, size of each one-key shock in bp; default 100.
        dtype: float32 or float64; default None meaning the dtype of ``key_tenors``.

    Returns:
        :class:`CurveShocks` with ``shocks_bp [6 + num_keys, num_keys]``.

    References:
        [1] Ho (1992); [3] BCBS (2016), Interest rate risk in the banking book, Annex 2.
    """
    dt = v.infer_dtype(key_tenors, dtype)
    keys = np.asarray(v.as_array("key_tenors", key_tenors, dt), np.float64)
    if keys.ndim != 1 or keys.size < 1 or np.any(np.diff(keys) <= 0) or np.any(keys < 0):
        raise ParameterRangeError("key_tenors must be 1-D, non-negative and strictly increasing")
    sizes = (parallel_bp, short_bp, long_bp, key_bp)
    if not all(np.isfinite(x) for x in sizes):
        raise ParameterRangeError("shock sizes must be finite numbers of basis points")
    d = np.exp(-keys / 4.0)
    short, long = short_bp * d, long_bp * (1.0 - d)
    rows = [np.full_like(keys, parallel_bp), np.full_like(keys, -parallel_bp)]
    rows += [-0.65 * short + 0.9 * long, 0.8 * short - 0.6 * long, short, -short]
    rows += list(key_bp * np.eye(keys.size))
    names: tuple[str, ...] = ("parallel_up", "parallel_down", "steepener", "flattener")
    names += ("short_up", "short_down", *(f"key_{k:g}y" for k in keys))
    return CurveShocks(names, jnp.asarray(np.stack(rows), dt))
