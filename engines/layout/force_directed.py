"""Force-directed 2-D layout of weighted graphs (Fruchterman-Reingold), batch-first.

Every node repels every other and every edge pulls its two ends together; node ``i`` at
``x_i`` moves each iteration by its net force, capped by a temperature that cools to zero:

    k = sqrt(A / n)                                  (ideal edge length, area A = 1)
    repulsion on i from j:   (k^2 / d_ij) u_ij        u_ij = (x_i - x_j) / d_ij
    attraction on i from j:  -(w_ij d_ij^2 / k) u_ij  (w_ij > 0 only along edges)
    x_i <- x_i + D_i / |D_i| min(|D_i|, t),          t = t0 (1 - iteration / iterations)

Graphs of different sizes share one call: each is padded to ``num_nodes`` and a boolean
mask marks its real nodes (padding exerts no force and does not move).  The result is
centred on the real nodes' mean and scaled so the farthest real node lies at distance 1.
Starting positions are uniform in the unit square from a fixed seed, so a layout is
reproducible.

References:
    [1] Fruchterman, T. M. J., Reingold, E. M. (1991). Graph drawing by force-directed
        placement. Software: Practice and Experience 21(11), 1129-1164.
    [2] Kobourov, S. G. (2012). Spring embedders and force directed graph drawing
        algorithms. arXiv:1201.3011.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import NonPositiveValueError, ParameterRangeError, ShapeMismatchError

__all__ = ["force_directed_layout"]


@partial(jax.jit, static_argnames=("iterations",))
def _layout_jit(
    weights: jax.Array, mask: jax.Array, key: jax.Array, iterations: int
) -> jax.Array:
    batch, n = mask.shape
    dtype = weights.dtype
    real = mask.astype(dtype)
    count = jnp.maximum(jnp.sum(real, axis=-1), 1.0)
    k = jnp.sqrt(1.0 / count)[:, None, None]
    pair = real[:, :, None] * real[:, None, :] * (1.0 - jnp.eye(n, dtype=dtype))
    start = jax.random.uniform(key, (batch, n, 2), dtype, -0.5, 0.5)
    t0 = jnp.asarray(0.1, dtype)

    def step(i: jax.Array, x: jax.Array) -> jax.Array:
        delta = x[:, :, None, :] - x[:, None, :, :]
        # A floor on the distance keeps coincident nodes finite (they repel strongly).
        d = jnp.maximum(jnp.sqrt(jnp.sum(delta * delta, axis=-1)), 1e-4)
        magnitude = pair * (k * k / d - weights * d * d / k)
        force = jnp.sum((magnitude / d)[..., None] * delta, axis=2)
        length = jnp.maximum(jnp.sqrt(jnp.sum(force * force, axis=-1, keepdims=True)), 1e-12)
        temperature = t0 * (1.0 - i / iterations)
        move = force / length * jnp.minimum(length, temperature)
        return x + move * real[..., None]

    x = lax.fori_loop(0, iterations, step, start)
    centre = jnp.sum(x * real[..., None], axis=1, keepdims=True) / count[:, None, None]
    x = (x - centre) * real[..., None]
    radius = jnp.max(jnp.sqrt(jnp.sum(x * x, axis=-1)), axis=-1)
    return x / jnp.where(radius > 0, radius, 1.0)[:, None, None]


def force_directed_layout(
    *,
    weights: ArrayLike,
    node_mask: ArrayLike | None = None,
    iterations: int = 200,
    seed: int = 0,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """2-D positions of the nodes of weighted undirected graphs by Fruchterman-Reingold.

    Formula: ``k = sqrt(1/n)``; per iteration node ``i`` feels ``sum_j (k^2 / d_ij) u_ij``
    from every node and ``-sum_j (w_ij d_ij^2 / k) u_ij`` along its edges
    (``u_ij = (x_i - x_j) / d_ij``), and moves along the net force by at most
    ``t = 0.1 (1 - iteration / iterations)``; positions are then centred and scaled to
    radius 1.

    Example:
        >>> import numpy as np
        >>> from engines.layout import force_directed_layout
        >>> path = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> xy = force_directed_layout(weights=path, seed=1)
        >>> xy.shape
        (3, 2)
        >>> ends = float(np.linalg.norm(xy[0] - xy[2]))
        >>> middle = float(np.linalg.norm(xy[0] - xy[1]))
        >>> ends > middle
        True

    Args:
        weights: ``[batch..., num_nodes, num_nodes]`` float, symmetric edge weights
            ``>= 0`` (0 = no edge; the diagonal is ignored).
        node_mask: ``[batch..., num_nodes]`` bool, True for a graph's real nodes (pad
            smaller graphs to ``num_nodes``); default None meaning all real.
        iterations: int ``>= 1``, steps of the cooling schedule; default 200.
        seed: int, seed of the uniform starting positions; default 0.
        dtype: float32 or float64; default None meaning the dtype of ``weights``.

    Returns:
        ``[batch..., num_nodes, 2]`` positions, centred, within the unit disc (padding 0).

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError (negative weight),
        ParameterRangeError (iterations).

    References:
        [1] Fruchterman, Reingold (1991), Software: Practice and Experience 21(11).
        [2] Kobourov (2012), arXiv:1201.3011.
    """
    dt = v.infer_dtype(weights, dtype)
    w = v.as_array("weights", weights, dt)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ShapeMismatchError(
            f"weights{tuple(w.shape)} must be [batch..., num_nodes, num_nodes]"
        )
    if iterations < 1:
        raise ParameterRangeError(f"iterations={iterations} must be >= 1")
    mask = jnp.ones(w.shape[:-1], bool) if node_mask is None else jnp.asarray(node_mask)
    if mask.dtype != jnp.bool_ or mask.shape != w.shape[:-1]:
        raise ShapeMismatchError(
            f"node_mask must be a bool array of shape {tuple(w.shape[:-1])}, "
            f"got {mask.dtype}{tuple(mask.shape)}"
        )
    v.check_all(finite=[("weights", w)], non_negative=[("weights", w)])
    if not bool(jnp.all(w == jnp.swapaxes(w, -1, -2))):
        raise NonPositiveValueError("weights must be symmetric (an undirected graph)")
    batch_shape = w.shape[:-2]
    n = w.shape[-1]
    flat_w = w.reshape((-1, n, n))
    flat_mask = mask.reshape((-1, n))
    key = jax.random.key(np.uint32(seed % 2**32))
    positions = _layout_jit(flat_w, flat_mask, key, iterations)
    return positions.reshape((*batch_shape, n, 2))
