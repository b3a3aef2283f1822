"""Reproducible standard normal draws for the Monte Carlo engines.

Bits come from the Threefry-2x32 counter-based generator (20 rounds) [1], keyed by an
integer seed; for a fixed seed, shape, dtype, backend and JAX version the draws are
identical on every call.  Two interfaces:

* :func:`standard_normals` -- a whole array at once from XLA's ``RngBitGenerator``
  (several times faster on CPU than ``jax.random.normal``).
* :func:`counter_normals` / :func:`unpack_normals` -- the draws of a block of rows,
  addressed by the row and column counters themselves, so a simulation can produce its
  normals block by block inside a loop without materialising all of them.  One Threefry
  call gives 64 bits: two float32 draws (stored as the halves of one ``uint64`` word so
  the call is evaluated once) or one float64 draw.

Bits map to uniforms ``u = (2k + 1) / 2^{p+1}`` with ``k`` the top ``p`` bits (``p = 23``
for float32, 52 for float64): exact in the floating type, symmetric and strictly inside
(0, 1), so no draw is infinite.  Uniforms map to normals by the inverse CDF
``z = sqrt(2) erfinv(2u - 1)``: XLA's ``erf_inv``, except for the float32 draws of
:func:`counter_normals`, which use Giles' single-precision approximation [2] with
``w = -log(4u(1 - u))`` (faster there, accurate to about 1e-6 absolute out to the
extreme draw ``|z| = 5.3``).

References:
    [1] Salmon, Moraes, Dror, Shaw (2011). Parallel random numbers: as easy as 1, 2, 3. SC'11.
    [2] Giles, M. (2010). Approximating the erfinv function. GPU Computing Gems Jade
        Edition, ch. 10.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import DTypeLike

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KEY_PARITY = 0x1BD11BDA
# Giles [2], single precision: erfinv(x) = x p(w), w = -log(1 - x^2); highest power first.
_ERFINV_CENTRAL = (  # w < 5, polynomial in w - 2.5
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
)
_ERFINV_TAIL = (  # w >= 5, polynomial in sqrt(w) - 3
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
)


def seed_keys(seed: int, count: int) -> jax.Array:
    """``count`` independent generator states ``uint32[count, 4]`` derived from ``seed``.

    Each state is a distinct Threefry key (split with ``jax.random.split``) in its first
    two words with its counter (the last two words) at zero, so the streams never overlap.
    """
    keys = jax.random.key_data(jax.random.split(jax.random.key(int(seed)), count))
    return jnp.concatenate([keys, jnp.zeros_like(keys)], axis=-1).astype(jnp.uint32)


def threefry2x32(key: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Threefry-2x32-20 [1] of the counter pairs ``(x0, x1)`` (uint32) under ``key[:2]``.

    Formula: five times four rounds ``x0 += x1; x1 = rotl(x1, R) ^ x0`` with the key
    schedule ``(k0, k1, k0 ^ k1 ^ 0x1BD11BDA)`` injected every four rounds (Random123).
    The same hash as ``jax.extend.random.threefry2x32_p`` (bit for bit), written out
    because that primitive lowers on CPU to a rolled loop, which XLA does not fuse with
    the draws around it (measured: Hull-White benchmark 100 ms with it, 94 ms unrolled).
    """
    k0, k1 = key[0], key[1]
    schedule = (k0, k1, k0 ^ k1 ^ jnp.uint32(_KEY_PARITY))
    x0, x1 = x0 + k0, x1 + k1
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = ((x1 << jnp.uint32(r)) | (x1 >> jnp.uint32(32 - r))) ^ x0
        x0 = x0 + schedule[(i + 1) % 3]
        x1 = x1 + schedule[(i + 2) % 3] + jnp.uint32(i + 1)
    return x0, x1


def _symmetric_uniforms(bits: jax.Array, dtype: DTypeLike) -> jax.Array:
    """``2u - 1`` with ``u = (2k + 1) / 2^{p+1}`` from the top ``p`` bits; exact."""
    if np.dtype(dtype) == np.float64:
        odd = ((bits.astype(jnp.uint64) >> jnp.uint64(12)) << jnp.uint64(1)) | jnp.uint64(1)
        return odd.astype(jnp.float64) * (2.0**-52) - 1.0
    odd = ((bits.astype(jnp.uint32) >> jnp.uint32(9)) << jnp.uint32(1)) | jnp.uint32(1)
    return odd.astype(jnp.float32) * np.float32(2.0**-23) - 1


def normals_from_bits(bits: jax.Array, dtype: DTypeLike) -> jax.Array:
    """Standard normals ``sqrt(2) erfinv(2u - 1)`` (XLA's ``erf_inv``) from uniform bits.

    ``bits`` are uint32 for float32, uint64 for float64.
    """
    return np.dtype(dtype).type(np.sqrt(2.0)) * lax.erf_inv(_symmetric_uniforms(bits, dtype))


def giles_normals(bits: jax.Array) -> jax.Array:
    """Float32 standard normals from uint32 bits by Giles' ``erfinv`` [2].

    Formula: ``z = sqrt(2) x p(w)``, ``x = 2u - 1``, ``w = -log(4u(1 - u))``, ``p`` a
    degree-8 polynomial in ``w - 2.5`` (``w < 5``) or ``sqrt(w) - 3``.  Faster than
    XLA's ``erf_inv`` where it is materialised (the normals of :func:`counter_normals`;
    fused into a reduction XLA compiles it poorly) and accurate to about 1e-6 in the tails.
    """
    x = _symmetric_uniforms(bits, jnp.float32)
    u = 0.5 * x + 0.5  # exact: u = (2k + 1) / 2^24
    w = -jnp.log(4 * u * (1 - u))
    central = w < 5
    t = jnp.where(central, w - 2.5, jnp.sqrt(w) - 3)
    p = jnp.where(central, np.float32(_ERFINV_CENTRAL[0]), np.float32(_ERFINV_TAIL[0]))
    for c, d in zip(_ERFINV_CENTRAL[1:], _ERFINV_TAIL[1:], strict=True):
        p = p * t + jnp.where(central, np.float32(c), np.float32(d))
    return np.float32(np.sqrt(2.0)) * p * x


def standard_normals(key: jax.Array, shape: tuple[int, ...], dtype: DTypeLike) -> jax.Array:
    """Standard normal draws of ``shape`` and ``dtype`` (float32 or float64) from ``key``.

    Traceable (use inside ``jax.jit``); ``key`` is one uint32[4] row of :func:`seed_keys`.
    """
    wide = np.dtype(dtype) == np.float64
    _, bits = lax.rng_bit_generator(
        key,
        shape,
        dtype=jnp.uint64 if wide else jnp.uint32,
        algorithm=lax.RandomAlgorithm.RNG_THREE_FRY,
    )
    return normals_from_bits(bits, dtype)


def counter_normals(
    key: jax.Array, first_row: jax.Array, shape: tuple[int, int], dtype: DTypeLike
) -> jax.Array:
    """Packed normals of rows ``first_row ..`` of a counter-addressed stream; see unpack.

    Element ``[i, j]`` is Threefry of the counters ``(j, first_row + i)``: float64 gives
    one normal per element (a float64 array), float32 two (a uint64 array whose high and
    low halves hold the float32 bits of the draws from the first and second output word).
    The same row always gets the same draws, whichever block it is generated in.
    """
    j = lax.broadcasted_iota(jnp.uint32, shape, 1)
    i = lax.broadcasted_iota(jnp.uint32, shape, 0) + first_row.astype(jnp.uint32)
    x0, x1 = threefry2x32(key, j, i)
    if np.dtype(dtype) == np.float64:
        bits = (x0.astype(jnp.uint64) << jnp.uint64(32)) | x1.astype(jnp.uint64)
        return normals_from_bits(bits, dtype)
    high, low = (
        lax.bitcast_convert_type(giles_normals(x), jnp.uint32).astype(jnp.uint64) for x in (x0, x1)
    )
    return (high << jnp.uint64(32)) | low


def unpack_normals(packed: jax.Array, dtype: DTypeLike) -> jax.Array:
    """Draws of :func:`counter_normals` as ``[rows, cols * draws per element]`` (a bitcast).

    Float32 row ``i`` holds, for ``j = 0, 1, ...``, the second then the first word's draw
    of element ``[i, j]``.
    """
    if np.dtype(dtype) == np.float64:
        return packed
    return lax.bitcast_convert_type(packed, jnp.float32).reshape(packed.shape[0], -1)
