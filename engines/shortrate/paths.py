"""Short-rate path containers and the Monte Carlo zero-coupon bond estimator.

References:
    [1] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, Springer,
        3.3-3.4 (short-rate models) and 4.2 (antithetic variates).
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from engines.shortrate._simulation import monte_carlo_discounts

__all__ = ["MonteCarloEstimate", "ShortRatePaths", "monte_carlo_bond_prices"]


class ShortRatePaths(NamedTuple):
    """Simulated short rates.

    Attributes:
        times: ``[num_steps + 1]`` float, ``0 = t_0 < ... < t_N = horizon``.
        rates: ``[num_paths, num_steps + 1]`` float; rows ``i`` and ``i + num_paths/2``
            are antithetic pairs.
    """

    times: jax.Array
    rates: jax.Array


class MonteCarloEstimate(NamedTuple):
    """Monte Carlo mean with its standard error (antithetic pairs averaged first)."""

    values: jax.Array
    standard_errors: jax.Array


@jax.jit
def _mc_bond(times: jax.Array, rates: jax.Array) -> MonteCarloEstimate:
    return MonteCarloEstimate(*monte_carlo_discounts(times, rates))


def monte_carlo_bond_prices(paths: ShortRatePaths) -> MonteCarloEstimate:
    """Zero-coupon bond prices ``P(0, t_k)`` estimated from short-rate paths.

    Formula: ``P(0, t_k) ~ mean_paths exp(-sum_{j<k} (r_j + r_{j+1}) / 2 (t_{j+1} - t_j))``
    (trapezoidal integral); standard error over antithetic pair averages.

    Example:
        >>> from engines.shortrate import vasicek_paths, monte_carlo_bond_prices
        >>> paths = vasicek_paths(mean_reversion=0.5, long_term_mean=0.04, volatility=0.0,
        ...                       initial_rate=0.04, horizon=1.0, num_steps=4, num_paths=2)
        >>> round(float(monte_carlo_bond_prices(paths).values[-1]), 8)
        0.96078944

    Args:
        paths: :class:`ShortRatePaths` with an even number of paths (``>= 4`` for a
            standard error).

    Returns:
        :class:`MonteCarloEstimate` of ``[num_steps]`` prices for ``t_1..t_N``.

    References:
        [1] Glasserman (2003), 3.3 and 4.2.
    """
    return _mc_bond(paths.times, paths.rates)
