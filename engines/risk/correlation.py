"""Sample covariance and correlation matrices of return series.

    S_ij = sum_t (x_it - xbar_i)(x_jt - xbar_j) / (T - ddof),    rho_ij = S_ij / sqrt(S_ii S_jj)

Assets are rows and time is the last axis (the layout of ``np.cov`` / ``np.corrcoef``).  An
asset with zero variance (a standard deviation within 16 ulps of its largest value) has no
defined correlation; it gets 0 with every other asset and 1 with itself, so the matrix
stays finite and positive semi-definite.

References:
    [1] Anderson, T. W. (2003). An Introduction to Multivariate Statistical Analysis,
        3rd ed., Wiley, ch. 3.
    [2] Higham, N. (2002). Computing the nearest correlation matrix. IMA Journal of
        Numerical Analysis 22(3) (properties of correlation matrices).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, ShapeMismatchError

__all__ = ["correlation_matrices", "covariance_matrices"]


@partial(jax.jit, static_argnames=("ddof",))
def _covariance_jit(returns: jax.Array, ddof: int) -> jax.Array:
    centred = returns - jnp.mean(returns, axis=-1, keepdims=True)
    return centred @ jnp.swapaxes(centred, -1, -2) / (returns.shape[-1] - ddof)


@jax.jit
def _correlation_jit(returns: jax.Array) -> jax.Array:
    cov = _covariance_jit(returns, 1)
    std = jnp.sqrt(jnp.diagonal(cov, axis1=-2, axis2=-1))
    # A constant series can keep a rounding-level variance when its mean is inexact.
    noise = 16 * jnp.finfo(returns.dtype).eps * jnp.max(jnp.abs(returns), axis=-1)
    std = jnp.where(std > noise, std, 0.0)
    scale = std[..., :, None] * std[..., None, :]
    corr = jnp.where(scale > 0, cov / jnp.where(scale > 0, scale, 1.0), 0.0)
    eye = jnp.eye(returns.shape[-2], dtype=bool)
    return jnp.where(eye, 1.0, jnp.clip(corr, -1.0, 1.0)).astype(returns.dtype)


def _returns(returns: ArrayLike, dtype: DTypeLike | None, minimum: int) -> jax.Array:
    dt = v.infer_dtype(returns, dtype)
    r = v.as_array("returns", returns, dt)
    if r.ndim < 2:
        raise ShapeMismatchError(
            f"returns{tuple(r.shape)} must be [batch..., num_assets, num_times]"
        )
    if r.shape[-1] < minimum:
        raise ShapeMismatchError(f"returns needs at least {minimum} observations per asset")
    v.check_finite("returns", r)
    return r


def covariance_matrices(
    *, returns: ArrayLike, ddof: int = 1, dtype: DTypeLike | None = None
) -> jax.Array:
    """Sample covariance matrices of asset returns, ``np.cov`` for batches.

    Formula: ``S_ij = sum_t (x_it - xbar_i)(x_jt - xbar_j) / (T - ddof)``.

    Example:
        >>> import numpy as np
        >>> from engines.risk import covariance_matrices
        >>> covariance_matrices(returns=np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]))
        Array([[1., 2.],
               [2., 4.]], dtype=float64)

    Args:
        returns: ``[batch..., num_assets, num_times]`` float, finite.
        ddof: int, 1 (sample, default) or 0 (population).
        dtype: float32 or float64; default None meaning the dtype of ``returns``.

    Returns:
        ``[batch..., num_assets, num_assets]`` covariance matrices.

    References:
        [1] Anderson (2003), ch. 3.
    """
    if ddof not in (0, 1):
        raise ParameterRangeError("ddof must be 0 (population) or 1 (sample)")
    return _covariance_jit(_returns(returns, dtype, ddof + 1), ddof)


def correlation_matrices(*, returns: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Pearson correlation matrices of asset returns, ``np.corrcoef`` for batches.

    Formula: ``rho_ij = S_ij / sqrt(S_ii S_jj)``; 0 off the diagonal (1 on it) for an asset
    with zero variance, where ``np.corrcoef`` gives NaN.

    Example:
        >>> import numpy as np
        >>> from engines.risk import correlation_matrices
        >>> x = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0], [5.0, 5.0, 5.0, 5.0]])
        >>> correlation_matrices(returns=x)
        Array([[1. , 0.6, 0. ],
               [0.6, 1. , 0. ],
               [0. , 0. , 1. ]], dtype=float64)

    Args:
        returns: ``[batch..., num_assets, num_times]`` float, finite, ``num_times >= 2``.
        dtype: float32 or float64; default None meaning the dtype of ``returns``.

    Returns:
        ``[batch..., num_assets, num_assets]`` correlation matrices in ``[-1, 1]``.

    References:
        [1] Anderson (2003), ch. 3; [2] Higham (2002), IMA J. Numer. Anal. 22(3).
    """
    return _correlation_jit(_returns(returns, dtype, 2))
