"""Vasicek short-rate model: exact Monte Carlo paths and analytic zero-coupon bonds.

    dr = a (b - r) dt + sigma dW
    r_{k+1} = r_k e^{-a dt} + b (1 - e^{-a dt}) + sigma sqrt((1 - e^{-2 a dt}) / (2a)) Z
    P(t, T) = A exp(-B r_t),  B = (1 - e^{-a tau}) / a,
    ln A = (B - tau)(a^2 b - sigma^2 / 2) / a^2 - sigma^2 B^2 / (4 a),  tau = T - t.

References:
    [1] Vasicek, O. (1977). An equilibrium characterization of the term structure.
        Journal of Financial Economics 5(2).
    [2] Brigo, D., Mercurio, F. (2006). Interest Rate Models, 2nd ed., 3.2.1.
    [3] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, 3.3.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines import _random
from engines import _validation as v
from engines.shortrate._simulation import (
    bond_arguments,
    check_simulation,
    model_scalars,
    ou_paths,
    time_grid,
)
from engines.shortrate.paths import ShortRatePaths

__all__ = ["vasicek_bond_prices", "vasicek_paths"]


@partial(jax.jit, static_argnames=("num_steps", "num_paths"))
def _vasicek_jit(
    a: jax.Array,
    b: jax.Array,
    sigma: jax.Array,
    r0: jax.Array,
    horizon: jax.Array,
    keys: jax.Array,
    num_steps: int,
    num_paths: int,
) -> ShortRatePaths:
    times = time_grid(horizon, num_steps)
    means = r0 * jnp.exp(-a * times) - b * jnp.expm1(-a * times)  # E[r_t]
    return ShortRatePaths(times, ou_paths(keys[0], means, a, sigma, times[1], num_paths))


def vasicek_paths(
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
    """Exact Vasicek short-rate paths with antithetic variates and a fixed seed.

    Formula: ``r_{k+1} = r_k e^{-a dt} + b (1 - e^{-a dt}) + sigma sqrt((1-e^{-2a dt})/(2a)) Z``.

    Example:
        >>> from engines.shortrate import vasicek_paths
        >>> p = vasicek_paths(mean_reversion=0.3, long_term_mean=0.05, volatility=0.01,
        ...                   initial_rate=0.03, horizon=2.0, num_steps=8, num_paths=4)
        >>> p.rates.shape, float(p.rates[0, 0])
        ((4, 9), 0.03)

    Args:
        mean_reversion: float ``a > 0``.
        long_term_mean: float ``b``.
        volatility: float ``sigma >= 0``.
        initial_rate: float ``r_0``.
        horizon: float, simulation horizon in years (> 0).
        num_steps: int, equal time steps.
        num_paths: int, even number of paths (antithetic pairs).
        seed: int, PRNG seed; the same seed gives the same paths; default 0.
        dtype: float32 or float64; default None meaning float64.

    Returns:
        :class:`ShortRatePaths` with ``rates[num_paths, num_steps + 1]``.

    References:
        [1] Vasicek (1977); [3] Glasserman (2003), 3.3.1.
    """
    check_simulation(num_steps, num_paths, horizon)
    a, sigma, b, r0, years = model_scalars(
        v.infer_dtype(None, dtype),
        mean_reversion=mean_reversion,
        volatility=volatility,
        long_term_mean=long_term_mean,
        initial_rate=initial_rate,
        horizon=horizon,
    )
    return _vasicek_jit(a, b, sigma, r0, years, _random.seed_keys(seed, 1), num_steps, num_paths)


@jax.jit
def _vasicek_bond_jit(
    a: jax.Array, b: jax.Array, sigma: jax.Array, r: jax.Array, tau: jax.Array
) -> jax.Array:
    bb = -jnp.expm1(-a * tau) / a
    log_a = (bb - tau) * (a * a * b - 0.5 * sigma * sigma) / (a * a) - sigma**2 * bb**2 / (4 * a)
    return jnp.exp(log_a - bb * r)


def vasicek_bond_prices(
    *,
    mean_reversion: ArrayLike,
    long_term_mean: ArrayLike,
    volatilities: ArrayLike,
    short_rates: ArrayLike,
    maturities: ArrayLike,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Analytic Vasicek zero-coupon bond prices ``P(t, t + tau) = A e^{-B r}``.

    Formula: ``B = (1 - e^{-a tau})/a``,
    ``ln A = (B - tau)(a^2 b - sigma^2/2)/a^2 - sigma^2 B^2 / (4a)``.

    Example:
        >>> from engines.shortrate import vasicek_bond_prices
        >>> round(float(vasicek_bond_prices(mean_reversion=0.1, long_term_mean=0.05,
        ...     volatilities=0.01, short_rates=0.03, maturities=5.0)), 10)
        0.8437913319

    Args:
        mean_reversion: ``[batch...]`` float ``a > 0``.
        long_term_mean: ``[batch...]`` float ``b``.
        volatilities: ``[batch...]`` float ``sigma >= 0``.
        short_rates: ``[batch...]`` float, current short rate ``r_t``.
        maturities: ``[batch...]`` float, time to maturity ``tau >= 0`` in years.
        dtype: float32 or float64; default None meaning the dtype of ``mean_reversion``.

    Returns:
        ``[batch...]`` bond prices per unit face.

    References:
        [1] Vasicek (1977); [2] Brigo, Mercurio (2006), eq. (3.8).
    """
    args = bond_arguments(
        dtype,
        mean_reversion=mean_reversion,
        long_term_mean=long_term_mean,
        volatilities=volatilities,
        short_rates=short_rates,
        maturities=maturities,
        positive_volatilities=False,
    )
    return _vasicek_bond_jit(*args)
