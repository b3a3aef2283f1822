"""Hull-White one-factor model fitted to an initial zero curve: paths and analytic bonds.

    dr = (theta(t) - a r) dt + sigma dW,   r(t) = x(t) + alpha(t),
    dx = -a x dt + sigma dW, x(0) = 0,     alpha(t) = f(0, t) + sigma^2 (1 - e^{-a t})^2 / (2 a^2),
    P(t, T) = P(0,T)/P(0,t) exp(B f(0,t) - sigma^2 (1 - e^{-2 a t}) B^2 / (4 a) - B r_t),
    B = (1 - e^{-a (T - t)}) / a.

The initial curve is given by continuously compounded zero rates on nodes, interpolated
linearly (flat outside); ``f(0, t) = d(t z(t))/dt`` is taken by autodiff.  ``x`` is
simulated exactly on the time grid with antithetic normals.

References:
    [1] Hull, J., White, A. (1990). Pricing Interest-Rate-Derivative Securities. Review of
        Financial Studies 3(4).
    [2] Brigo, D., Mercurio, F. (2006). Interest Rate Models, 2nd ed., 3.3.
    [3] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, 3.3.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines import _random
from engines import _validation as v
from engines.errors import ShapeMismatchError
from engines.shortrate._simulation import check_simulation, model_scalars, ou_paths, time_grid
from engines.shortrate.paths import ShortRatePaths

__all__ = ["hull_white_bond_prices", "hull_white_paths"]


def _log_discount(t: jax.Array, curve_times: jax.Array, zero_rates: jax.Array) -> jax.Array:
    return -t * jnp.interp(t, curve_times, zero_rates)


def _instantaneous_forward(
    t: jax.Array, curve_times: jax.Array, zero_rates: jax.Array
) -> jax.Array:
    grad = jax.grad(lambda s: -_log_discount(s, curve_times, zero_rates))
    return jax.vmap(grad)(t.reshape(-1)).reshape(t.shape)


@partial(jax.jit, static_argnames=("num_steps", "num_paths"))
def _hull_white_jit(
    a: jax.Array,
    sigma: jax.Array,
    curve_times: jax.Array,
    zero_rates: jax.Array,
    horizon: jax.Array,
    keys: jax.Array,
    num_steps: int,
    num_paths: int,
) -> ShortRatePaths:
    times = time_grid(horizon, num_steps)
    alpha = _instantaneous_forward(times, curve_times, zero_rates) + (
        sigma**2 / (2 * a**2) * jnp.expm1(-a * times) ** 2
    )
    return ShortRatePaths(times, ou_paths(keys[0], alpha, a, sigma, times[1], num_paths))


def _prepare_curve(
    curve_times: ArrayLike, zero_rates: ArrayLike, dt: DTypeLike
) -> tuple[jax.Array, jax.Array]:
    t = v.as_array("curve_times", curve_times, dt)
    z = v.as_array("zero_rates", zero_rates, dt)
    v.check_rank("curve_times", t, 1)
    v.check_same_shape("curve_times", t, "zero_rates", z)
    v.check_all(
        finite=[("curve_times", t), ("zero_rates", z)], non_negative_time=[("curve_times", t)]
    )
    return t, z


def hull_white_paths(
    *,
    mean_reversion: float,
    volatility: float,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    horizon: float,
    num_steps: int,
    num_paths: int,
    seed: int = 0,
    dtype: DTypeLike | None = None,
) -> ShortRatePaths:
    """Hull-White one-factor short-rate paths fitted to the initial zero curve.

    Formula: ``r_k = x_k + alpha(t_k)``, ``x_{k+1} = x_k e^{-a dt} + sigma
    sqrt((1 - e^{-2a dt}) / (2a)) Z`` (exact), ``alpha(t) = f(0,t) + sigma^2 (1-e^{-at})^2/(2a^2)``.

    Example:
        >>> import numpy as np
        >>> from engines.shortrate import hull_white_paths
        >>> p = hull_white_paths(mean_reversion=0.1, volatility=0.01,
        ...     curve_times=np.array([0.0, 10.0]), zero_rates=np.array([0.03, 0.03]),
        ...     horizon=1.0, num_steps=12, num_paths=4, seed=42)
        >>> p.rates.shape, round(float(p.rates[0, 0]), 12)
        ((4, 13), 0.03)

    Args:
        mean_reversion: float ``a > 0``.
        volatility: float ``sigma >= 0``.
        curve_times: ``[num_nodes]`` float, increasing node times (years) of the curve.
        zero_rates: ``[num_nodes]`` float, continuously compounded zero rates at the nodes.
        horizon: float, years to simulate (> 0).
        num_steps: int, equal time steps.
        num_paths: int, even number of paths (antithetic pairs).
        seed: int, PRNG seed (same seed, same paths); default 0.
        dtype: float32 or float64; default None meaning the dtype of ``zero_rates``.

    Returns:
        :class:`ShortRatePaths` with ``rates[num_paths, num_steps + 1]``.

    References:
        [1] Hull, White (1990); [2] Brigo, Mercurio (2006), 3.3.1; [3] Glasserman (2003), 3.3.
    """
    dt = v.infer_dtype(zero_rates, dtype)
    check_simulation(num_steps, num_paths, horizon)
    a, sigma, years = model_scalars(
        dt, mean_reversion=mean_reversion, volatility=volatility, horizon=horizon
    )
    t, z = _prepare_curve(curve_times, zero_rates, dt)
    return _hull_white_jit(a, sigma, t, z, years, _random.seed_keys(seed, 1), num_steps, num_paths)


@jax.jit
def _hw_bond_jit(
    a: jax.Array,
    sigma: jax.Array,
    curve_times: jax.Array,
    zero_rates: jax.Array,
    t: jax.Array,
    maturity: jax.Array,
    r: jax.Array,
) -> jax.Array:
    t, maturity, r = jnp.broadcast_arrays(t, maturity, r)
    b = -jnp.expm1(-a * (maturity - t)) / a
    f0t = _instantaneous_forward(t, curve_times, zero_rates)
    log_ratio = _log_discount(maturity, curve_times, zero_rates) - _log_discount(
        t, curve_times, zero_rates
    )
    log_a = log_ratio + b * f0t + sigma**2 / (4 * a) * jnp.expm1(-2 * a * t) * b**2
    return jnp.exp(log_a - b * r)


def hull_white_bond_prices(
    *,
    mean_reversion: float,
    volatility: float,
    curve_times: ArrayLike,
    zero_rates: ArrayLike,
    times: ArrayLike,
    maturities: ArrayLike,
    short_rates: ArrayLike,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Analytic Hull-White zero-coupon bond prices ``P(t, T)`` given the short rate ``r_t``.

    Formula: ``P(t,T) = P(0,T)/P(0,t) exp(B f(0,t) - sigma^2 (1-e^{-2at}) B^2/(4a) - B r_t)``,
    ``B = (1 - e^{-a(T-t)})/a``; at ``t = 0`` with ``r_0 = f(0, 0)`` it reprices the curve.

    Example:
        >>> import numpy as np
        >>> from engines.shortrate import hull_white_bond_prices
        >>> round(float(hull_white_bond_prices(mean_reversion=0.1, volatility=0.01,
        ...     curve_times=np.array([0.0, 30.0]), zero_rates=np.array([0.03, 0.03]),
        ...     times=1.0, maturities=5.0, short_rates=0.035)), 10)
        0.8719906772

    Args:
        mean_reversion: float ``a > 0``.
        volatility: float ``sigma >= 0``.
        curve_times: ``[num_nodes]`` float, node times of the initial zero curve.
        zero_rates: ``[num_nodes]`` float, continuously compounded zero rates.
        times: ``[batch...]`` float, valuation times ``t >= 0``.
        maturities: ``[batch...]`` float, bond maturities ``T >= t``.
        short_rates: ``[batch...]`` float, short rate ``r_t`` at ``t``.
        dtype: float32 or float64; default None meaning the dtype of ``zero_rates``.

    Returns:
        ``[batch...]`` prices per unit face.

    References:
        [2] Brigo, Mercurio (2006), eq. (3.39); [1] Hull, White (1990).
    """
    dt = v.infer_dtype(zero_rates, dtype)
    a, sigma = model_scalars(dt, mean_reversion=mean_reversion, volatility=volatility)
    ct, z = _prepare_curve(curve_times, zero_rates, dt)
    named = [
        (n, v.as_array(n, x, dt))
        for n, x in (("times", times), ("maturities", maturities), ("short_rates", short_rates))
    ]
    v.broadcast_shape(named)
    arr = dict(named)
    v.check_all(finite=named, non_negative_time=[("times", arr["times"])])
    if bool(jnp.any(arr["maturities"] < arr["times"])):
        raise ShapeMismatchError("maturities must be >= times for every bond")
    return _hw_bond_jit(
        a,
        sigma,
        ct,
        z,
        arr["times"],
        arr["maturities"],
        arr["short_rates"],
    )
