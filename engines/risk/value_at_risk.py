"""Value at risk and expected shortfall of portfolios: historical and Monte Carlo.

With portfolio weights ``w`` over assets and asset returns ``r_t``, the loss is
``L_t = -w . r_t`` (a fraction of the portfolio's value; exact for simple returns) and at
confidence level ``alpha``

    VaR = Q_alpha(L)            (the linearly interpolated empirical quantile, as np.percentile)
    ES  = E[L | L >= VaR]       (the mean of the losses at or beyond the VaR)

Historical VaR uses the observed return history.  Monte Carlo VaR draws returns
``r = mu + A z`` with ``A`` a Cholesky factor of the covariance (``A A' = Sigma``) and ``z``
standard normal, or, for Student-t shocks with ``nu > 2`` degrees of freedom,
``r = mu + sqrt((nu - 2) / g) A z`` with ``g ~ chi^2_nu`` shared across assets, so that
``cov(r) = Sigma`` in both cases.  Draws come from fixed keys derived from ``seed``.  The
Cholesky factor is computed column by column and treats a zero pivot as a zero column, so
a singular covariance (cash, or a duplicated asset) is fine; a matrix that is not positive
semi-definite is rejected.  Standard errors are the sectioning estimate
``(Q_{a+s} - Q_{a-s}) / 2``, ``s = sqrt(alpha (1 - alpha) / n)``, for VaR and
``std(tail) / sqrt(n_tail)`` for ES.

References:
    [1] Jorion, P. (2006). Value at Risk, 3rd ed., McGraw-Hill, ch. 10 and 12.
    [2] Acerbi, C., Tasche, D. (2002). On the coherence of expected shortfall. Journal of
        Banking and Finance 26(7).
    [3] McNeil, A., Frey, R., Embrechts, P. (2015). Quantitative Risk Management, revised
        ed., Princeton, 2.2-2.3 and 6.2 (normal and t mixtures).
    [4] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, 9.1.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _random
from engines import _validation as v
from engines.errors import NonPositiveValueError, ParameterRangeError, ShapeMismatchError

__all__ = ["RiskMeasures", "historical_var", "monte_carlo_var"]


class RiskMeasures(NamedTuple):
    """VaR and ES per portfolio, each ``[batch...]``, as positive fractions of value lost.

    ``*_standard_errors`` are Monte Carlo standard errors (zeros for historical VaR).
    """

    value_at_risk: jax.Array
    expected_shortfall: jax.Array
    var_standard_errors: jax.Array
    es_standard_errors: jax.Array


def _tail_measures(losses: jax.Array, level: jax.Array, sampled: bool) -> RiskMeasures:
    """VaR, ES and their sampling errors from ``losses [batch..., n]``."""
    n = losses.shape[-1]
    var = jnp.quantile(losses, level, axis=-1)
    tail = losses >= var[..., None]
    count = jnp.sum(tail, -1)
    es = jnp.sum(jnp.where(tail, losses, 0.0), -1) / count
    if not sampled:
        zero = jnp.zeros_like(var)
        return RiskMeasures(var, es, zero, zero)
    spread = jnp.sqrt(level * (1.0 - level) / n)
    high = jnp.quantile(losses, jnp.minimum(level + spread, 1.0), axis=-1)
    low = jnp.quantile(losses, jnp.maximum(level - spread, 0.0), axis=-1)
    tail_var = jnp.sum(jnp.where(tail, (losses - es[..., None]) ** 2, 0.0), -1)
    es_se = jnp.sqrt(tail_var / jnp.maximum(count - 1, 1) / count)
    return RiskMeasures(var, es, 0.5 * (high - low), es_se)


@jax.jit
def _historical_jit(returns: jax.Array, weights: jax.Array, level: jax.Array) -> RiskMeasures:
    return _tail_measures(-(weights @ returns), level, sampled=False)


def _check_level(confidence_level: float) -> None:
    v.check_range("confidence_level", confidence_level, 0.0, 1.0)


def historical_var(
    *,
    returns: ArrayLike,
    weights: ArrayLike,
    confidence_level: float = 0.99,
    dtype: DTypeLike | None = None,
) -> RiskMeasures:
    """Historical VaR and expected shortfall of portfolios over an asset-return history.

    Formula: ``L_t = -w . r_t``; ``VaR = Q_alpha(L)`` (linear interpolation, as
    ``np.percentile(L, 100 alpha)``); ``ES = mean(L_t | L_t >= VaR)``.

    Example:
        >>> import numpy as np
        >>> from engines.risk import historical_var
        >>> r = np.array([[-0.05, 0.01, 0.02, -0.01, 0.03], [0.0, 0.0, -0.04, 0.01, 0.0]])
        >>> m = historical_var(returns=r, weights=np.array([0.5, 0.5]), confidence_level=0.8)
        >>> round(float(m.value_at_risk), 6), round(float(m.expected_shortfall), 6)
        (0.013, 0.025)

    Args:
        returns: ``[num_assets, num_times]`` float, simple returns per period (time last).
        weights: ``[batch..., num_assets]`` float, portfolio weights (fractions of value;
            negative for shorts).
        confidence_level: float in (0, 1); default 0.99.
        dtype: float32 or float64; default None meaning the dtype of ``returns``.

    Returns:
        :class:`RiskMeasures` of ``[batch...]`` arrays (standard errors zero).

    References:
        [1] Jorion (2006), ch. 12; [2] Acerbi, Tasche (2002).
    """
    dt = v.infer_dtype(returns, dtype)
    r = v.as_array("returns", returns, dt)
    w = v.as_array("weights", weights, dt)
    if r.ndim != 2 or w.ndim < 1 or w.shape[-1] != r.shape[0]:
        raise ShapeMismatchError(
            f"returns{tuple(r.shape)} must be [num_assets, num_times] and weights"
            f"{tuple(w.shape)} [batch..., num_assets]"
        )
    if r.shape[1] < 1:
        raise ShapeMismatchError("returns needs at least one observation")
    _check_level(confidence_level)
    v.check_all(finite=[("returns", r), ("weights", w)])
    return _historical_jit(r, w, jnp.asarray(confidence_level, dt))


@jax.jit
def _cholesky_psd(matrix: jax.Array) -> jax.Array:
    """Lower ``L`` with ``L L' = matrix`` for a positive semi-definite ``matrix``.

    Column-by-column (``fori_loop``, no LAPACK): a pivot at rounding level makes its column
    zero, so singular covariances factor; an indefinite matrix leaves ``L L' != matrix``.
    """
    n = matrix.shape[0]
    tol = n * jnp.finfo(matrix.dtype).eps * jnp.max(jnp.abs(jnp.diagonal(matrix)))
    rows = jnp.arange(n)

    def column(j: jax.Array, lower: jax.Array) -> jax.Array:
        pivot = matrix[j, j] - jnp.sum(lower[j] ** 2)
        root = jnp.sqrt(jnp.maximum(pivot, 0.0))
        col = (matrix[:, j] - lower @ lower[j]) / jnp.where(pivot > tol, root, 1.0)
        col = jnp.where((rows > j) & (pivot > tol), col, 0.0)
        return lower.at[:, j].set(col.at[j].set(jnp.where(pivot > tol, root, 0.0)))

    return lax.fori_loop(0, n, column, jnp.zeros_like(matrix))


@partial(jax.jit, static_argnames=("num_samples", "student_t"))
def _monte_carlo_jit(
    means: jax.Array,
    factor: jax.Array,
    weights: jax.Array,
    level: jax.Array,
    keys: jax.Array,
    degrees: jax.Array,
    num_samples: int,
    student_t: bool,
) -> RiskMeasures:
    dtype = means.dtype
    z = _random.standard_normals(keys[0], (num_samples, means.shape[0]), dtype)
    shocks = z @ factor.T
    if student_t:
        gamma_key = jax.random.wrap_key_data(keys[1, :2])
        chi2 = 2.0 * jax.random.gamma(gamma_key, degrees / 2.0, (num_samples,), dtype)
        shocks = shocks * jnp.sqrt((degrees - 2.0) / chi2)[:, None]
    losses = -(weights @ (means + shocks).T)
    return _tail_measures(losses, level, sampled=True)


def monte_carlo_var(
    *,
    means: ArrayLike,
    covariances: ArrayLike,
    weights: ArrayLike,
    confidence_level: float = 0.99,
    num_samples: int = 100_000,
    degrees_of_freedom: float | None = None,
    seed: int = 0,
    dtype: DTypeLike | None = None,
) -> RiskMeasures:
    """Monte Carlo VaR and expected shortfall with correlated normal or Student-t returns.

    Formula: ``r = mu + s A z``, ``A A' = Sigma`` (Cholesky), ``z ~ N(0, I)``; ``s = 1``
    (normal) or ``s = sqrt((nu - 2) / g)``, ``g ~ chi^2_nu`` (multivariate t scaled to
    covariance ``Sigma``); ``L = -w . r``, ``VaR = Q_alpha(L)``, ``ES = mean(L | L >= VaR)``.
    For normal returns ``VaR -> -w.mu + z_alpha sigma_p`` with ``sigma_p^2 = w' Sigma w``.

    Example:
        >>> import numpy as np
        >>> from engines.risk import monte_carlo_var
        >>> cov = np.array([[4e-4, 1e-4], [1e-4, 9e-4]])
        >>> m = monte_carlo_var(means=np.zeros(2), covariances=cov, weights=np.array([0.5, 0.5]),
        ...                     confidence_level=0.99, num_samples=200_000, seed=1)
        >>> exact = 2.326348 * np.sqrt(3.75e-4)  # z_0.99 sigma_p
        >>> bool(abs(float(m.value_at_risk) - exact) < 3 * float(m.var_standard_errors))
        True

    Args:
        means: ``[num_assets]`` float, expected returns per period.
        covariances: ``[num_assets, num_assets]`` float, symmetric positive semi-definite
            covariance of returns per period.
        weights: ``[batch..., num_assets]`` float, portfolio weights.
        confidence_level: float in (0, 1); default 0.99.
        num_samples: int ``>= 2``, scenarios drawn (shared by all portfolios); default
            100,000.
        degrees_of_freedom: float ``> 2`` for Student-t shocks; default None meaning normal.
        seed: int, seed of the fixed generator keys; default 0.
        dtype: float32 or float64; default None meaning the dtype of ``covariances``.

    Returns:
        :class:`RiskMeasures` of ``[batch...]`` arrays with Monte Carlo standard errors.

    References:
        [1] Jorion (2006), ch. 12; [3] McNeil, Frey, Embrechts (2015), 6.2;
        [4] Glasserman (2003), 9.1.
    """
    dt = v.infer_dtype(covariances, dtype)
    mu = v.as_array("means", means, dt)
    cov = v.as_array("covariances", covariances, dt)
    w = v.as_array("weights", weights, dt)
    n = mu.shape[0] if mu.ndim == 1 else -1
    if mu.ndim != 1 or cov.shape != (n, n) or w.ndim < 1 or w.shape[-1] != n:
        raise ShapeMismatchError(
            f"means{tuple(mu.shape)}, covariances{tuple(cov.shape)} and weights"
            f"{tuple(w.shape)} must be [A], [A, A] and [batch..., A]"
        )
    _check_level(confidence_level)
    if num_samples < 2:
        raise ParameterRangeError("num_samples must be >= 2")
    if degrees_of_freedom is not None and not degrees_of_freedom > 2:
        raise ParameterRangeError(
            "degrees_of_freedom must be > 2 (the t variance is finite only then)"
        )
    v.check_all(finite=[("means", mu), ("covariances", cov), ("weights", w)])
    host = np.asarray(cov, np.float64)
    scale = max(float(np.max(np.abs(host))), np.finfo(dt).tiny)
    if np.max(np.abs(host - host.T)) > 1e3 * np.finfo(dt).eps * scale:
        raise ShapeMismatchError("covariances must be symmetric")
    factor = _cholesky_psd(cov)
    residual = np.max(np.abs(np.asarray(factor @ factor.T, np.float64) - host))
    if not residual <= 1e3 * n * np.finfo(dt).eps * scale:
        raise NonPositiveValueError(
            "covariances is not positive semi-definite; estimate it from returns "
            "(covariance_matrices) or repair it (nearest correlation matrix)"
        )
    keys = _random.seed_keys(seed, 2)
    degrees = jnp.asarray(4.0 if degrees_of_freedom is None else degrees_of_freedom, dt)
    return _monte_carlo_jit(
        mu,
        factor,
        w,
        jnp.asarray(confidence_level, dt),
        keys,
        degrees,
        num_samples,
        degrees_of_freedom is not None,
    )
