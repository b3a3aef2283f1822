"""Cox-Ingersoll-Ross short-rate model: Monte Carlo paths and analytic bond prices.

    dr = a (b - r) dt + sigma sqrt(r) dW
    Full-truncation Euler [3]:  r~_{k+1} = r~_k + a (b - r~_k^+) dt + sigma sqrt(r~_k^+ dt) Z,
    r_k = max(r~_k, 0);  P(t,T) = A e^{-B r},  h = sqrt(a^2 + 2 sigma^2),
    B = 2 (e^{h tau} - 1) / D,  A = (2 h e^{(a + h) tau / 2} / D)^{2ab/sigma^2},
    D = (a + h)(e^{h tau} - 1) + 2 h.

References:
    [1] Cox, J., Ingersoll, J., Ross, S. (1985). A Theory of the Term Structure of Interest
        Rates. Econometrica 53(2).
    [2] Brigo, D., Mercurio, F. (2006). Interest Rate Models, 2nd ed., 3.2.3.
    [3] Lord, R., Koekkoek, R., van Dijk, D. (2010). A comparison of biased simulation
        schemes for stochastic volatility models. Quantitative Finance 10(2).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _random
from engines import _validation as v
from engines.shortrate._simulation import bond_arguments, check_simulation, model_scalars, time_grid
from engines.shortrate.paths import ShortRatePaths

__all__ = ["cir_bond_prices", "cir_paths"]


@partial(jax.jit, static_argnames=("num_steps", "num_paths"))
def _cir_jit(
    a: jax.Array,
    b: jax.Array,
    sigma: jax.Array,
    r0: jax.Array,
    horizon: jax.Array,
    keys: jax.Array,
    num_steps: int,
    num_paths: int,
) -> ShortRatePaths:
    dtype = r0.dtype
    times = time_grid(horizon, num_steps)
    dt = times[1]
    half = num_paths // 2

    normals = _random.standard_normals(keys[0], (num_steps, half), dtype)

    def step(x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        pos = jnp.maximum(x, 0.0)
        x = x + a * (b - pos) * dt + sigma * jnp.sqrt(pos * dt) * jnp.concatenate([z, -z])
        return x, x

    start = jnp.full((num_paths,), r0, dtype)
    _, xs = lax.scan(step, start, normals)
    rates = jnp.maximum(jnp.concatenate([start[None, :], xs], axis=0).T, 0.0)
    return ShortRatePaths(times, rates)


def cir_paths(
    *,
    mean_reversion: float,
    long_term_mean: float,
    volatility: float,
    initial_rate: float,
    horizon: float,
    num_steps: int,
    num_paths: int,
    seed: int = 0,
    dtype: DTypeLike | None = None,
) -> ShortRatePaths:
    """CIR short-rate paths by full-truncation Euler with antithetic normals.

    Formula: ``r~_{k+1} = r~_k + a (b - r~_k^+) dt + sigma sqrt(r~_k^+ dt) Z``,
    ``r_k = max(r~_k, 0)`` (weak order 1 in ``dt``).

    Example:
        >>> from engines.shortrate import cir_paths
        >>> p = cir_paths(mean_reversion=0.5, long_term_mean=0.04, volatility=0.1,
        ...               initial_rate=0.03, horizon=1.0, num_steps=10, num_paths=6)
        >>> p.rates.shape, bool((p.rates >= 0).all())
        ((6, 11), True)

    Args:
        mean_reversion: float ``a > 0``.
        long_term_mean: float ``b >= 0``.
        volatility: float ``sigma >= 0``.
        initial_rate: float ``r_0 >= 0``.
        horizon: float, years (> 0).
        num_steps: int, equal time steps.
        num_paths: int, even number of paths.
        seed: int, PRNG seed; default 0.
        dtype: float32 or float64; default None meaning float64.

    Returns:
        :class:`ShortRatePaths`.

    References:
        [1] Cox, Ingersoll, Ross (1985); [3] Lord, Koekkoek, van Dijk (2010).
    """
    check_simulation(num_steps, num_paths, horizon)
    v.check_range("initial_rate", initial_rate, 0.0, float("inf"), closed=True)
    a, sigma, b, r0, years = model_scalars(
        v.infer_dtype(None, dtype),
        mean_reversion=mean_reversion,
        volatility=volatility,
        long_term_mean=long_term_mean,
        initial_rate=initial_rate,
        horizon=horizon,
    )
    return _cir_jit(a, b, sigma, r0, years, _random.seed_keys(seed, 1), num_steps, num_paths)


@jax.jit
def _cir_bond_jit(
    a: jax.Array, b: jax.Array, sigma: jax.Array, r: jax.Array, tau: jax.Array
) -> jax.Array:
    h = jnp.sqrt(a * a + 2 * sigma * sigma)
    growth = jnp.expm1(h * tau)
    denom = (a + h) * growth + 2 * h
    bb = 2 * growth / denom
    log_a = 2 * a * b / sigma**2 * (jnp.log(2 * h / denom) + 0.5 * (a + h) * tau)
    return jnp.exp(log_a - bb * r)


def cir_bond_prices(
    *,
    mean_reversion: ArrayLike,
    long_term_mean: ArrayLike,
    volatilities: ArrayLike,
    short_rates: ArrayLike,
    maturities: ArrayLike,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Analytic CIR zero-coupon bond prices ``P(t, t + tau) = A e^{-B r}``.

    Formula: ``h = sqrt(a^2 + 2 sigma^2)``, ``D = (a+h)(e^{h tau}-1) + 2h``,
    ``B = 2(e^{h tau}-1)/D``, ``A = (2h e^{(a+h) tau/2} / D)^{2ab/sigma^2}``.

    Example:
        >>> from engines.shortrate import cir_bond_prices
        >>> round(float(cir_bond_prices(mean_reversion=0.5, long_term_mean=0.04,
        ...     volatilities=0.1, short_rates=0.03, maturities=5.0)), 10)
        0.8352344189

    Args:
        mean_reversion: ``[batch...]`` float ``a > 0``.
        long_term_mean: ``[batch...]`` float ``b``.
        volatilities: ``[batch...]`` float ``sigma > 0``.
        short_rates: ``[batch...]`` float ``r_t >= 0``.
        maturities: ``[batch...]`` float ``tau >= 0``.
        dtype: float32 or float64; default None meaning the dtype of ``mean_reversion``.

    Returns:
        ``[batch...]`` bond prices per unit face.

    References:
        [1] Cox, Ingersoll, Ross (1985); [2] Brigo, Mercurio (2006), eq. (3.25).
    """
    args = bond_arguments(
        dtype,
        mean_reversion=mean_reversion,
        long_term_mean=long_term_mean,
        volatilities=volatilities,
        short_rates=short_rates,
        maturities=maturities,
        positive_volatilities=True,
    )
    return _cir_bond_jit(*args)
