"""Risk of portfolios of assets in one jitted call: covariance, correlation, volatility,
Euler contributions, and historical and parametric (normal) VaR and expected shortfall.

With asset returns ``R [A, T]`` (time last), weights ``w [A]`` and covariance ``S``:

    sigma_p = sqrt(w' S w)                               portfolio volatility per period
    c_i     = w_i (S w)_i / sigma_p                      Euler contribution, sum_i c_i = sigma_p
    VaR_N   = -w.mu + z_alpha sigma_p                    parametric (normal) VaR
    ES_N    = -w.mu + sigma_p phi(z_alpha) / (1 - alpha) parametric (normal) ES
    L_t     = -w . r_t;  VaR_H = Q_alpha(L), ES_H = mean(L | L >= VaR_H)   historical

Portfolios are batched (``[batch..., A, T]``): every watchlist of a request with the same
number of assets and days is one call.  A portfolio with zero volatility gets zero
contributions.

References:
    [1] Jorion, P. (2006). Value at Risk, 3rd ed., McGraw-Hill, ch. 7 (component VaR) and 12.
    [2] Tasche, D. (2008). Capital allocation to business units and sub-portfolios: the Euler
        principle. In Pillar II in the New Basel Accord, Risk Books.
    [3] McNeil, A., Frey, R., Embrechts, P. (2015). Quantitative Risk Management, revised
        ed., Princeton, 2.2 (normal VaR and ES).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri
from jax.scipy.stats import norm
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ShapeMismatchError
from engines.risk.correlation import _correlation_jit, _covariance_jit
from engines.risk.value_at_risk import _check_level, _tail_measures

__all__ = ["PortfolioRisk", "portfolio_risk"]


class PortfolioRisk(NamedTuple):
    """Figures per portfolio; per-period fractions of value (daily returns give daily risk)."""

    covariances: jax.Array  # [batch..., A, A]
    correlations: jax.Array  # [batch..., A, A]
    volatilities: jax.Array  # [batch...]
    contributions: jax.Array  # [batch..., A], Euler contributions to the volatility
    historical_var: jax.Array  # [batch...]
    historical_es: jax.Array  # [batch...]
    parametric_var: jax.Array  # [batch...]
    parametric_es: jax.Array  # [batch...]


@jax.jit
def _portfolio_jit(returns: jax.Array, weights: jax.Array, level: jax.Array) -> PortfolioRisk:
    cov = _covariance_jit(returns, 1)
    corr = _correlation_jit(returns)
    marginal = jnp.einsum("...ij,...j->...i", cov, weights)
    variance = jnp.maximum(jnp.sum(weights * marginal, -1), 0.0)
    vol = jnp.sqrt(variance)
    contributions = jnp.where(
        vol[..., None] > 0, weights * marginal / jnp.where(vol > 0, vol, 1.0)[..., None], 0.0
    )
    losses = -jnp.einsum("...a,...at->...t", weights, returns)
    tail = _tail_measures(losses, level, sampled=False)
    mean_loss = -jnp.sum(weights * jnp.mean(returns, -1), -1)
    z = ndtri(level)
    return PortfolioRisk(
        cov,
        corr,
        vol,
        contributions,
        tail.value_at_risk,
        tail.expected_shortfall,
        mean_loss + z * vol,
        mean_loss + vol * norm.pdf(z) / (1.0 - level),
    )


def portfolio_risk(
    *,
    returns: ArrayLike,
    weights: ArrayLike,
    confidence_level: float = 0.99,
    dtype: DTypeLike | None = None,
) -> PortfolioRisk:
    """Covariance, correlation, volatility, Euler contributions and VaR/ES of portfolios.

    Formula: ``sigma_p = sqrt(w' S w)``, ``c_i = w_i (S w)_i / sigma_p``; historical
    ``VaR = Q_alpha(-w.r_t)``, ``ES = mean(L | L >= VaR)``; normal ``VaR = -w.mu +
    z_alpha sigma_p``, ``ES = -w.mu + sigma_p phi(z_alpha) / (1 - alpha)``.

    Example:
        >>> import numpy as np
        >>> from engines.risk import portfolio_risk
        >>> r = np.array([[0.01, -0.02, 0.03, 0.0], [0.02, -0.01, 0.01, -0.02]])
        >>> p = portfolio_risk(returns=r, weights=np.array([0.5, 0.5]), confidence_level=0.9)
        >>> bool(np.isclose(float(p.contributions.sum()), float(p.volatilities)))
        True

    Args:
        returns: ``[batch..., num_assets, num_times]`` float, finite, ``num_times >= 2``.
        weights: ``[batch..., num_assets]`` float, finite (fractions of value; negative
            for shorts).
        confidence_level: float in (0, 1); default 0.99.
        dtype: float32 or float64; default None meaning the dtype of ``returns``.

    Returns:
        :class:`PortfolioRisk`.

    References:
        [1] Jorion (2006), ch. 7 and 12; [2] Tasche (2008); [3] McNeil, Frey, Embrechts
        (2015), 2.2.
    """
    dt = v.infer_dtype(returns, dtype)
    r = v.as_array("returns", returns, dt)
    w = v.as_array("weights", weights, dt)
    if r.ndim < 2 or w.shape != r.shape[:-1]:
        raise ShapeMismatchError(
            f"returns{tuple(r.shape)} must be [batch..., num_assets, num_times] and weights"
            f"{tuple(w.shape)} [batch..., num_assets]"
        )
    if r.shape[-1] < 2:
        raise ShapeMismatchError("returns needs at least 2 observations per asset")
    _check_level(confidence_level)
    v.check_all(finite=[("returns", r), ("weights", w)])
    return _portfolio_jit(r, w, jnp.asarray(confidence_level, dt))
