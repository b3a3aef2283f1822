"""Reproducible standard normal draws for the Monte Carlo engines.

Bits come from XLA's ``RngBitGenerator`` with the Threefry algorithm, keyed by an integer
seed; for a fixed seed, shape, dtype, backend and JAX version the draws are identical on
every call.  On CPU this is several times faster than ``jax.random.normal``.  Uniforms in
(0, 1) are mapped to normals by the inverse CDF, ``z = sqrt(2) erfinv(2u - 1)``.

References:
    [1] Salmon, Moraes, Dror, Shaw (2011). Parallel random numbers: as easy as 1, 2, 3. SC'11.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import DTypeLike


def seed_keys(seed: int, count: int) -> jax.Array:
    """``count`` independent generator states ``uint32[count, 4]`` derived from ``seed``.

    Each state is a distinct Threefry key (split with ``jax.random.split``) with its counter
    at zero, so the streams never overlap.
    """
    keys = jax.random.key_data(jax.random.split(jax.random.key(int(seed)), count))
    return jnp.concatenate([keys, jnp.zeros_like(keys)], axis=-1).astype(jnp.uint32)


def standard_normals(key: jax.Array, shape: tuple[int, ...], dtype: DTypeLike) -> jax.Array:
    """Standard normal draws of ``shape`` and ``dtype`` (float32 or float64) from ``key``.

    Traceable (use inside ``jax.jit``); ``key`` is one uint32[4] row of :func:`seed_keys`.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        _, bits = lax.rng_bit_generator(
            key, shape, dtype=jnp.uint64, algorithm=lax.RandomAlgorithm.RNG_THREE_FRY
        )
        mantissa = (bits >> jnp.uint64(11)).astype(jnp.float64)
        uniforms = (mantissa + 0.5) * (1.0 / 9007199254740992.0)
    else:
        _, bits = lax.rng_bit_generator(
            key, shape, dtype=jnp.uint32, algorithm=lax.RandomAlgorithm.RNG_THREE_FRY
        )
        mantissa = (bits >> jnp.uint32(8)).astype(jnp.float32)
        uniforms = (mantissa + 0.5) * np.float32(1.0 / 16777216.0)
    two = jnp.asarray(2.0, dtype)
    return jnp.sqrt(two) * lax.erf_inv(two * uniforms - 1)
