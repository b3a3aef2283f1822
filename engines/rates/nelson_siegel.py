"""Nelson-Siegel and Nelson-Siegel-Svensson zero and forward curves.

Svensson's extension of the Nelson-Siegel zero curve (``x_i = t / tau_i``):

    y(t) = b0 + b1 L1(x1) + b2 L2(x1) + b3 L2(x2),
    L1(x) = (1 - e^{-x}) / x,   L2(x) = L1(x) - e^{-x},
    f(t) = b0 + b1 e^{-x1} + b2 x1 e^{-x1} + b3 x2 e^{-x2}     (instantaneous forward).

Nelson-Siegel is the special case without the ``b3`` term.  Fitting lives in
:mod:`engines.rates.nelson_siegel_fit`.

References:
    [1] Nelson, C., Siegel, A. (1987). Parsimonious Modeling of Yield Curves. Journal of
        Business 60(4).
    [2] Svensson, L. (1994). Estimating and Interpreting Forward Interest Rates: Sweden
        1992-1994. NBER Working Paper 4871.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from engines import _validation as v
from engines.errors import ShapeMismatchError

__all__ = [
    "nelson_siegel_svensson_forwards",
    "nelson_siegel_svensson_yields",
    "nelson_siegel_yields",
]


def _l1(x: jax.Array) -> jax.Array:
    small = x < 1e-6
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x, -jnp.expm1(-safe) / safe)


def loadings(times: jax.Array, taus: jax.Array) -> jax.Array:
    """``[num_times, 3]`` (one tau: Nelson-Siegel) or ``[num_times, 4]`` (two: NSS) loadings."""
    columns = [jnp.ones_like(times)]
    for i in range(taus.shape[0]):
        x = times / taus[i]
        l1 = _l1(x)
        if i == 0:
            columns.append(l1)
        columns.append(l1 - jnp.exp(-x))
    return jnp.stack(columns, axis=-1)


@jax.jit
def _nss_jit(times: jax.Array, parameters: jax.Array) -> jax.Array:
    p = parameters[..., None, :]
    x1 = times / p[..., 4]
    x2 = times / p[..., 5]
    l1 = _l1(x1)
    return (
        p[..., 0]
        + p[..., 1] * l1
        + p[..., 2] * (l1 - jnp.exp(-x1))
        + p[..., 3] * (_l1(x2) - jnp.exp(-x2))
    )


@jax.jit
def _nss_forward_jit(times: jax.Array, parameters: jax.Array) -> jax.Array:
    p = parameters[..., None, :]
    x1 = times / p[..., 4]
    x2 = times / p[..., 5]
    e1 = jnp.exp(-x1)
    return p[..., 0] + p[..., 1] * e1 + p[..., 2] * x1 * e1 + p[..., 3] * x2 * jnp.exp(-x2)


def _prepare_eval(times: ArrayLike, parameters: ArrayLike, width: int) -> tuple[jax.Array, ...]:
    dt = v.infer_dtype(parameters, None)
    t = v.as_array("times", times, dt)
    p = v.as_array("parameters", parameters, dt)
    if p.ndim < 1 or p.shape[-1] != width:
        raise ShapeMismatchError(f"parameters must have last axis {width}, got {tuple(p.shape)}")
    v.check_all(finite=[("times", t), ("parameters", p)], non_negative=[("times", t)])
    v.check_positive("decay times (tau)", p[..., 4 if width == 6 else 3 :])
    return t, p


def nelson_siegel_svensson_yields(*, times: ArrayLike, parameters: ArrayLike) -> jax.Array:
    """Nelson-Siegel-Svensson zero yields ``y(t)``.

    Formula: ``y = b0 + b1 L1(t/tau1) + b2 L2(t/tau1) + b3 L2(t/tau2)`` with
    ``L1(x) = (1 - e^-x)/x``, ``L2 = L1 - e^-x`` (``y(0) = b0 + b1``).

    Example:
        >>> import numpy as np
        >>> from engines.rates import nelson_siegel_svensson_yields
        >>> p = np.array([0.04, -0.01, 0.01, 0.005, 1.0, 10.0])
        >>> np.round(nelson_siegel_svensson_yields(times=np.array([1.0, 10.0]), parameters=p), 6)
        Array([0.036555, 0.041321], dtype=float64)

    Args:
        times: ``[num_times]`` float, maturities ``>= 0`` in years.
        parameters: ``[batch..., 6]`` float, ``(b0, b1, b2, b3, tau1, tau2)``, taus > 0.

    Returns:
        ``[batch..., num_times]`` yields.

    References:
        [2] Svensson (1994), NBER WP 4871.
    """
    t, p = _prepare_eval(times, parameters, 6)
    return _nss_jit(t, p)


def nelson_siegel_svensson_forwards(*, times: ArrayLike, parameters: ArrayLike) -> jax.Array:
    """Nelson-Siegel-Svensson instantaneous forward rates ``f(t)``.

    Formula: ``f = b0 + b1 e^{-x1} + b2 x1 e^{-x1} + b3 x2 e^{-x2}``, ``x_i = t / tau_i``;
    equals ``d(t y(t))/dt``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import nelson_siegel_svensson_forwards
        >>> p = np.array([0.04, -0.01, 0.01, 0.005, 1.0, 10.0])
        >>> np.round(nelson_siegel_svensson_forwards(times=np.array([0.0, 30.0]), parameters=p), 6)
        Array([0.03    , 0.040747], dtype=float64)

    Args:
        times: ``[num_times]`` float, times ``>= 0`` in years.
        parameters: ``[batch..., 6]`` float, ``(b0, b1, b2, b3, tau1, tau2)``.

    Returns:
        ``[batch..., num_times]`` instantaneous forward rates.

    References:
        [2] Svensson (1994), NBER WP 4871.
    """
    t, p = _prepare_eval(times, parameters, 6)
    return _nss_forward_jit(t, p)


def nelson_siegel_yields(*, times: ArrayLike, parameters: ArrayLike) -> jax.Array:
    """Nelson-Siegel zero yields ``y(t) = b0 + b1 L1(t/tau) + b2 L2(t/tau)``.

    Example:
        >>> import numpy as np
        >>> from engines.rates import nelson_siegel_yields
        >>> p = np.array([0.05, -0.02, 0.01, 2.0])
        >>> np.round(nelson_siegel_yields(times=np.array([2.0]), parameters=p), 6)
        Array([0.04], dtype=float64)

    Args:
        times: ``[num_times]`` float, maturities ``>= 0``.
        parameters: ``[batch..., 4]`` float, ``(b0, b1, b2, tau)``, ``tau > 0``.

    Returns:
        ``[batch..., num_times]`` yields.

    References:
        [1] Nelson, Siegel (1987), Journal of Business 60(4).
    """
    t, p = _prepare_eval(times, parameters, 4)
    full = jnp.concatenate([p[..., :3], jnp.zeros_like(p[..., :1]), p[..., 3:], p[..., 3:]], -1)
    return _nss_jit(t, full)
