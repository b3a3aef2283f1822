"""CAPM regressions: alpha and beta by ordinary least squares, with standard errors.

On excess returns ``y_t = r_t - rf_t`` (asset) and ``x_t = m_t - rf_t`` (market):

    beta = S_xy / S_xx,    alpha = ybar - beta xbar,      S_xy = sum (x - xbar)(y - ybar)
    s^2 = sum (y - alpha - beta x)^2 / (T - 2)
    se(beta) = s / sqrt(S_xx),    se(alpha) = s sqrt(1/T + xbar^2 / S_xx)
    t = estimate / se,            R^2 = S_xy^2 / (S_xx S_yy)

(the closed forms of the classical OLS covariance ``s^2 (X'X)^{-1}``).  Alpha is per
period (multiply by the periods per year for an annual figure).  Where the market's excess
return never varies the slope is undefined: beta is 0, alpha the mean excess return, and
the beta standard error infinite; t-statistics are 0 for a zero estimate and +-inf for a
perfect fit, never NaN.

References:
    [1] Sharpe, W. (1964). Capital Asset Prices: A Theory of Market Equilibrium under
        Conditions of Risk. Journal of Finance 19(3).
    [2] Jensen, M. (1968). The Performance of Mutual Funds in the Period 1945-1964.
        Journal of Finance 23(2).
    [3] Greene, W. (2018). Econometric Analysis, 8th ed., Pearson, ch. 4.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ShapeMismatchError

__all__ = ["CapmRegression", "capm_regressions"]


class CapmRegression(NamedTuple):
    """OLS estimates per asset, each ``[batch...]``.

    Attributes:
        alphas, betas: intercept (per period) and slope.
        alpha_standard_errors, beta_standard_errors: classical OLS standard errors.
        alpha_t_stats, beta_t_stats: estimate / standard error.
        r_squared: share of the excess-return variance explained by the market.
        residual_volatilities: ``s``, the residual standard deviation per period.
    """

    alphas: jax.Array
    betas: jax.Array
    alpha_standard_errors: jax.Array
    beta_standard_errors: jax.Array
    alpha_t_stats: jax.Array
    beta_t_stats: jax.Array
    r_squared: jax.Array
    residual_volatilities: jax.Array


def _t_stat(estimate: jax.Array, error: jax.Array) -> jax.Array:
    safe = jnp.where(error > 0, error, 1.0)
    limit = jnp.where(estimate == 0, 0.0, jnp.sign(estimate) * jnp.inf)
    return jnp.where(error > 0, estimate / safe, limit)


@jax.jit
def _capm_jit(asset: jax.Array, market: jax.Array, risk_free: jax.Array) -> CapmRegression:
    asset, market, risk_free = jnp.broadcast_arrays(asset, market, risk_free)
    y = asset - risk_free
    x = market - risk_free
    n = y.shape[-1]
    x_bar = jnp.mean(x, -1)
    y_bar = jnp.mean(y, -1)
    dx = x - x_bar[..., None]
    dy = y - y_bar[..., None]
    s_xx = jnp.sum(dx * dx, -1)
    s_xy = jnp.sum(dx * dy, -1)
    s_yy = jnp.sum(dy * dy, -1)
    has_slope = s_xx > 0
    safe_xx = jnp.where(has_slope, s_xx, 1.0)
    beta = jnp.where(has_slope, s_xy / safe_xx, 0.0)
    alpha = y_bar - beta * x_bar
    residuals = dy - beta[..., None] * dx
    s2 = jnp.sum(residuals * residuals, -1) / (n - 2)
    beta_se = jnp.where(has_slope, jnp.sqrt(s2 / safe_xx), jnp.inf)
    alpha_se = jnp.where(has_slope, jnp.sqrt(s2 * (1.0 / n + x_bar * x_bar / safe_xx)), jnp.inf)
    explained = jnp.where(
        has_slope & (s_yy > 0), s_xy * s_xy / (safe_xx * jnp.where(s_yy > 0, s_yy, 1.0)), 0.0
    )
    return CapmRegression(
        alpha,
        beta,
        alpha_se,
        beta_se,
        _t_stat(alpha, alpha_se),
        _t_stat(beta, beta_se),
        jnp.minimum(explained, 1.0),
        jnp.sqrt(s2),
    )


def capm_regressions(
    *,
    asset_returns: ArrayLike,
    market_returns: ArrayLike,
    risk_free_rates: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> CapmRegression:
    """CAPM alpha and beta of many assets by OLS, with standard errors, t-stats and R^2.

    Formula: regress ``r - rf`` on ``m - rf``: ``beta = S_xy / S_xx``,
    ``alpha = ybar - beta xbar``, ``se(beta) = s / sqrt(S_xx)``,
    ``se(alpha) = s sqrt(1/T + xbar^2 / S_xx)``, ``s^2 = SSR / (T - 2)``,
    ``R^2 = S_xy^2 / (S_xx S_yy)``.

    Example:
        >>> import numpy as np
        >>> from engines.risk import capm_regressions
        >>> m = np.array([0.01, -0.02, 0.015, 0.0, -0.005])
        >>> r = capm_regressions(asset_returns=0.001 + 1.5 * m + np.array([1, -1, 0, 1, -1]) * 1e-3,
        ...                      market_returns=m)
        >>> round(float(r.betas), 6), round(float(r.alphas), 6), round(float(r.r_squared), 4)
        (1.546667, 0.001, 0.9987)

    Args:
        asset_returns: ``[batch..., num_times]`` float, asset returns per period.
        market_returns: ``[batch..., num_times]`` float, market returns, broadcastable
            (e.g. ``[num_times]`` for one index against many assets).
        risk_free_rates: ``[batch..., num_times]`` float, risk-free return per period,
            broadcastable; default None meaning 0.
        dtype: float32 or float64; default None meaning the dtype of ``asset_returns``.

    Returns:
        :class:`CapmRegression` of ``[batch...]`` arrays.

    References:
        [1] Sharpe (1964); [2] Jensen (1968); [3] Greene (2018), Econometric Analysis, ch. 4.
    """
    dt = v.infer_dtype(asset_returns, dtype)
    named = [
        ("asset_returns", v.as_array("asset_returns", asset_returns, dt)),
        ("market_returns", v.as_array("market_returns", market_returns, dt)),
        (
            "risk_free_rates",
            v.as_array("risk_free_rates", 0.0 if risk_free_rates is None else risk_free_rates, dt),
        ),
    ]
    shape = v.broadcast_shape(named)
    if len(shape) < 1 or shape[-1] < 3:
        raise ShapeMismatchError(
            f"returns of shape {shape} need a time axis of at least 3 observations "
            "(two parameters and one degree of freedom)"
        )
    v.check_all(finite=named)
    return _capm_jit(*(x for _, x in named))
