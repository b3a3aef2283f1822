"""Discount, zero and forward curves bootstrapped from par yields.

A par bond with coupon rate ``c_n`` (paid ``f`` times a year) maturing at the ``n``-th
coupon date prices at par, so the discount factors on the coupon grid ``t_k = k / f``
follow by forward substitution:

    1 = (c_n / f) sum_{k<=n} P(t_k) + P(t_n)
    =>  P(t_n) = (1 - (c_n / f) sum_{k<n} P(t_k)) / (1 + c_n / f).

Par yields between quoted tenors are interpolated linearly in maturity (flat before the
first and after the last tenor).  Zero rates are continuously compounded,
``z(t) = -ln P(t) / t``; forward rates are the continuously compounded rates between
consecutive nodes, ``f_k = ln(P(t_{k-1}) / P(t_k)) / (t_k - t_{k-1})``.

References:
    [1] Hull, J. C. (2022). Options, Futures, and Other Derivatives, 11th ed., 4.5-4.7.
    [2] Hagan, P., West, G. (2006). Interpolation Methods for Curve Construction.
        Applied Mathematical Finance 13(2).
    [3] U.S. Treasury, Daily Treasury Par Yield Curve Rates (methodology notes).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, ShapeMismatchError

__all__ = ["BootstrappedCurve", "bootstrap_par_curve", "forward_rates", "zero_rates"]


class BootstrappedCurve(NamedTuple):
    """Curve on the coupon grid.

    Attributes:
        times: ``[num_nodes]`` float, ``k / frequency`` for ``k = 1..num_nodes``.
        discount_factors: ``[batch..., num_nodes]`` float.
        zero_rates: ``[batch..., num_nodes]`` float, continuously compounded.
    """

    times: jax.Array
    discount_factors: jax.Array
    zero_rates: jax.Array


@partial(jax.jit, static_argnames=("frequency", "num_nodes"))
def _bootstrap_jit(
    par_yields: jax.Array, tenors: jax.Array, frequency: int, num_nodes: int
) -> BootstrappedCurve:
    dtype = par_yields.dtype
    times = jnp.arange(1, num_nodes + 1, dtype=dtype) / frequency
    flat = par_yields.reshape(-1, par_yields.shape[-1])
    grid_yields = jax.vmap(lambda y: jnp.interp(times, tenors, y))(flat)
    coupons = grid_yields / frequency  # [batch, nodes]

    def step(annuity: jax.Array, coupon: jax.Array) -> tuple[jax.Array, jax.Array]:
        discount = (1.0 - coupon * annuity) / (1.0 + coupon)
        return annuity + discount, discount

    _, discounts = lax.scan(step, jnp.zeros(flat.shape[0], dtype), coupons.T)
    discounts = discounts.T.reshape(*par_yields.shape[:-1], num_nodes)
    return BootstrappedCurve(times, discounts, -jnp.log(discounts) / times)


def bootstrap_par_curve(
    *,
    par_yields: ArrayLike,
    tenors: ArrayLike,
    frequency: int = 2,
    dtype: DTypeLike | None = None,
) -> BootstrappedCurve:
    """Bootstrap discount factors and zero rates from a par yield curve (e.g. US Treasury).

    Formula: ``P(t_n) = (1 - (c_n/f) sum_{k<n} P(t_k)) / (1 + c_n/f)`` on ``t_k = k/f``,
    ``c_n`` the par yield linearly interpolated at ``t_n``; ``z(t) = -ln P(t) / t``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import bootstrap_par_curve
        >>> curve = bootstrap_par_curve(par_yields=np.array([0.04, 0.045, 0.05]),
        ...                             tenors=np.array([0.5, 1.0, 2.0]))
        >>> curve.times
        Array([0.5, 1. , 1.5, 2. ], dtype=float64)
        >>> np.round(curve.discount_factors, 8)
        Array([0.98039216, 0.95642169, 0.93186879, 0.90564189], dtype=float64)

    Args:
        par_yields: ``[batch..., num_tenors]`` float, par yields in decimals (0.05 = 5%),
            compounded ``frequency`` times a year; must be finite.
        tenors: ``[num_tenors]`` float, increasing maturities in years.
        frequency: int, coupons per year; default 2 (US Treasuries).
        dtype: float32 or float64; default None meaning the dtype of ``par_yields``.

    Returns:
        :class:`BootstrappedCurve` on ``t_k = k / frequency`` up to the last tenor.

    References:
        [1] Hull (2022), 4.5-4.7; [2] Hagan, West (2006), Applied Mathematical Finance 13(2).
    """
    dt = v.infer_dtype(par_yields, dtype)
    yields = v.as_array("par_yields", par_yields, dt)
    tenor_array = v.as_array("tenors", tenors, dt)
    v.check_rank("tenors", tenor_array, 1)
    v.check_rank("par_yields", yields, range(1, 8))
    if yields.shape[-1] != tenor_array.shape[0]:
        raise ShapeMismatchError(
            f"par_yields last axis ({yields.shape[-1]}) must equal len(tenors) "
            f"({tenor_array.shape[0]})"
        )
    if frequency < 1:
        raise ParameterRangeError("frequency must be a positive number of coupons per year")
    v.check_all(
        finite=[("par_yields", yields), ("tenors", tenor_array)], positive=[("tenors", tenor_array)]
    )
    tenor_np = np.asarray(tenor_array)
    if np.any(np.diff(tenor_np) <= 0):
        raise ParameterRangeError("tenors must be strictly increasing")
    num_nodes = round(float(tenor_np[-1]) * frequency)
    return _bootstrap_jit(yields, tenor_array, frequency, max(num_nodes, 1))


@jax.jit
def _forward_jit(times: jax.Array, discount_factors: jax.Array) -> jax.Array:
    t = jnp.concatenate([jnp.zeros((1,), times.dtype), times])
    log_p = jnp.log(discount_factors)
    log_p = jnp.concatenate([jnp.zeros((*log_p.shape[:-1], 1), log_p.dtype), log_p], axis=-1)
    return -jnp.diff(log_p, axis=-1) / jnp.diff(t)


def forward_rates(*, times: ArrayLike, discount_factors: ArrayLike) -> jax.Array:
    """Continuously compounded forward rates between consecutive curve nodes.

    Formula: ``f_k = ln(P(t_{k-1}) / P(t_k)) / (t_k - t_{k-1})`` with ``t_0 = 0, P(0) = 1``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import forward_rates
        >>> forward_rates(times=np.array([1.0, 2.0]),
        ...               discount_factors=np.exp(-np.array([0.03, 0.07])))
        Array([0.03, 0.04], dtype=float64)

    Args:
        times: ``[num_nodes]`` float, increasing positive node times in years.
        discount_factors: ``[batch..., num_nodes]`` float, discount factors in (0, 1].

    Returns:
        ``[batch..., num_nodes]`` forward rates, the k-th for ``(t_{k-1}, t_k]``.

    References:
        [1] Hull (2022), 4.8; [2] Hagan, West (2006).
    """
    dt = v.infer_dtype(discount_factors, None)
    t = v.as_array("times", times, dt)
    p = v.as_array("discount_factors", discount_factors, dt)
    v.check_rank("times", t, 1)
    if p.shape[-1:] != t.shape:
        raise ShapeMismatchError("discount_factors last axis must match times")
    v.check_all(
        finite=[("times", t), ("discount_factors", p)],
        positive=[("times", t), ("discount_factors", p)],
    )
    return _forward_jit(t, p)


def zero_rates(*, times: ArrayLike, discount_factors: ArrayLike) -> jax.Array:
    """Continuously compounded zero rates ``z(t) = -ln P(t) / t``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import zero_rates
        >>> zero_rates(times=np.array([2.0]), discount_factors=np.exp(-np.array([0.1])))
        Array([0.05], dtype=float64)

    Args:
        times: ``[num_nodes]`` float, positive times in years.
        discount_factors: ``[batch..., num_nodes]`` float, positive discount factors.

    Returns:
        ``[batch..., num_nodes]`` zero rates.

    References:
        [1] Hull (2022), 4.4.
    """
    dt = v.infer_dtype(discount_factors, None)
    t = v.as_array("times", times, dt)
    p = v.as_array("discount_factors", discount_factors, dt)
    v.check_all(
        finite=[("times", t), ("discount_factors", p)],
        positive=[("times", t), ("discount_factors", p)],
    )
    return -jnp.log(p) / t
