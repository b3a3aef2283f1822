"""Small symmetric positive definite solves, unrolled for ``vmap``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def solve_spd(matrix: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve small SPD systems ``[..., n, n] x = [..., n]`` by an unrolled Cholesky.

    Plain elementwise arithmetic (no LAPACK custom call), so it vectorises and fuses under
    ``vmap`` for thousands of systems at once (batched LAPACK solves under ``vmap`` and
    ``scan`` have deadlocked XLA CPU).
    """
    n = matrix.shape[-1]
    zero = jnp.zeros(matrix.shape[:-2], matrix.dtype)
    tiny = jnp.finfo(matrix.dtype).tiny
    lower: list[list[jax.Array]] = [[zero] * n for _ in range(n)]
    for j in range(n):
        diag = matrix[..., j, j] - sum((lower[j][k] ** 2 for k in range(j)), zero)
        lower[j][j] = jnp.sqrt(jnp.maximum(diag, tiny))
        for i in range(j + 1, n):
            off = matrix[..., i, j] - sum((lower[i][k] * lower[j][k] for k in range(j)), zero)
            lower[i][j] = off / lower[j][j]
    y: list[jax.Array] = []
    for i in range(n):
        y.append((rhs[..., i] - sum((lower[i][k] * y[k] for k in range(i)), zero)) / lower[i][i])
    x: list[jax.Array] = [zero] * n
    for i in reversed(range(n)):
        acc = y[i] - sum((lower[k][i] * x[k] for k in range(i + 1, n)), zero)
        x[i] = acc / lower[i][i]
    return jnp.stack(x, axis=-1)
