"""Shared set-up of the short-rate engines: argument checks, time blocks, exact OU paths.

Sequential recursions over a few hundred time steps run in blocks of at most
``MAX_BLOCK`` steps: inside a block a linear recursion (or a running sum) is one small
matrix product, and only the block ends are carried from block to block.  Every array
stays in the ``[paths, steps]`` layout the API returns -- on XLA:CPU a transpose of that
size costs more than the simulation, and so does ``cumsum`` along rows -- and each block
is written or read once, in place.

References:
    [1] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, 3.3.
    [2] Blelloch, G. (1990). Prefix Sums and Their Applications. CMU-CS-90-190.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _random
from engines import _validation as v
from engines.errors import ParameterRangeError

MAX_BLOCK = 32


def check_simulation(num_steps: int, num_paths: int, horizon: float) -> None:
    """Validate Monte Carlo sizes (shared by the short-rate models)."""
    if num_steps < 1:
        raise ParameterRangeError("num_steps must be >= 1")
    if num_paths < 2 or num_paths % 2:
        raise ParameterRangeError("num_paths must be a positive even number (antithetic pairs)")
    if not horizon > 0:
        raise ParameterRangeError("horizon must be > 0 years")


def model_scalars(
    dtype: DTypeLike, *, mean_reversion: float, volatility: float, **others: float
) -> list[jax.Array]:
    """Check ``a > 0`` and ``sigma >= 0``; return ``a``, ``sigma`` and ``others`` as arrays."""
    v.check_range("mean_reversion", mean_reversion, 0.0, float("inf"))
    v.check_non_negative_volatility("volatility", jnp.asarray(volatility))
    values = [mean_reversion, volatility, *others.values()]
    return [jnp.asarray(x, dtype) for x in values]


def bond_arguments(
    dtype: DTypeLike | None,
    *,
    mean_reversion: ArrayLike,
    long_term_mean: ArrayLike,
    volatilities: ArrayLike,
    short_rates: ArrayLike,
    maturities: ArrayLike,
    positive_volatilities: bool,
) -> list[jax.Array]:
    """Convert and check the analytic bond arguments of Vasicek and CIR."""
    dt = v.infer_dtype(mean_reversion, dtype)
    named = v.as_arrays(
        [
            ("mean_reversion", mean_reversion),
            ("long_term_mean", long_term_mean),
            ("volatilities", volatilities),
            ("short_rates", short_rates),
            ("maturities", maturities),
        ],
        dt,
    )
    arrays = dict(named)
    vols = [("volatilities", arrays["volatilities"])]
    v.check_all(
        finite=named,
        non_negative_volatility=[] if positive_volatilities else vols,
        non_negative_time=[("maturities", arrays["maturities"])],
        positive=[("mean_reversion", arrays["mean_reversion"])]
        + (vols if positive_volatilities else []),
    )
    return [a for _, a in named]


def time_blocks(num_steps: int) -> tuple[int, int]:
    """``(count, length)`` with ``length <= MAX_BLOCK``, ``count length >= num_steps``.

    Prefers a ``count`` that divides ``num_steps`` (no padding), up to twice the fewest.
    """
    fewest = -(-num_steps // MAX_BLOCK)
    for count in range(fewest, 2 * fewest + 1):
        if num_steps % count == 0:
            return count, num_steps // count
    return fewest, -(-num_steps // fewest)


def ou_paths(
    keys: jax.Array,
    x0: jax.Array,
    decay: jax.Array,
    drift: jax.Array,
    scale: jax.Array,
    num_steps: int,
    num_paths: int,
) -> jax.Array:
    """``x_{k+1} = x_k decay + drift_k + scale Z_k`` with antithetic Z; ``[paths, steps + 1]``.

    The mean path ``m_{k+1} = m_k decay + drift_k`` is shared by all paths; the noise
    ``e_{k+1} = e_k decay + scale Z_k`` is, within a block of ``L`` steps from ``e``,
    ``e_j = decay^j e + sum_{i<j} scale decay^{j-1-i} Z_i`` -- one ``[paths/2, L] x [L, L]``
    product per block, written in place into the ``[paths, steps + 1]`` result.  Rows
    ``i`` and ``i + paths/2`` use ``Z`` and ``-Z``.
    """
    half = num_paths // 2
    dtype = x0.dtype
    count, length = time_blocks(num_steps)
    padded_steps = count * length
    # Time-major normals: the generator vectorises along the long paths axis.
    normals = _random.standard_normals(keys[0], (count * length, half), dtype)
    steps = np.arange(length)
    lags = steps[None, :] - steps[:, None]  # [i, j] = j - i
    kernel = jnp.where(lags >= 0, scale * decay ** jnp.asarray(np.maximum(lags, 0), dtype), 0)
    powers = decay ** jnp.arange(1, length + 1, dtype=dtype)

    def mean_step(m: jax.Array, drift_k: jax.Array) -> tuple[jax.Array, jax.Array]:
        m = m * decay + drift_k
        return m, m

    _, means = lax.scan(mean_step, x0, jnp.pad(drift, (0, padded_steps - num_steps)))

    def block(b: jax.Array, carry: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        noise, rates = carry
        z = lax.dynamic_slice_in_dim(normals, b * length, length)  # [length, half]
        noise_block = noise[:, None] * powers[None, :] + lax.dot_general(
            z, kernel, (((0,), (0,)), ((), ()))
        )
        mean_block = lax.dynamic_slice_in_dim(means, b * length, length)[None, :]
        both = jnp.concatenate([mean_block + noise_block, mean_block - noise_block])
        rates = lax.dynamic_update_slice(rates, both, (0, 1 + b * length))
        return noise_block[:, -1], rates

    start = jnp.full((num_paths, 1 + padded_steps), x0, dtype)
    _, rates = lax.fori_loop(0, count, block, (jnp.zeros((half,), dtype), start))
    return rates if padded_steps == num_steps else rates[:, : num_steps + 1]


def monte_carlo_discounts(times: jax.Array, rates: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean and standard error of ``exp(-int_0^{t_k} r)`` over antithetic pair averages.

    Streams over blocks of time steps: each block's trapezoidal increments are summed by
    one product with a triangular matrix of ones [2] on top of the running integral, so
    ``rates`` is read once and no ``[paths, steps]`` temporary is written.
    """
    num_paths, num_points = rates.shape
    num_steps, half = num_points - 1, num_paths // 2
    dtype = rates.dtype
    count, length = time_blocks(num_steps)
    padded_steps = count * length
    if padded_steps != num_steps:  # repeat the last rate over zero-length steps
        rates = jnp.pad(rates, ((0, 0), (0, padded_steps - num_steps)), mode="edge")
    widths = jnp.pad(jnp.diff(times), (0, padded_steps - num_steps))
    inclusive = jnp.asarray(np.triu(np.ones((length, length))), dtype)  # [i, k]: i <= k
    count_pairs = jnp.asarray(half, dtype)

    def block(
        b: jax.Array, carry: tuple[jax.Array, jax.Array, jax.Array]
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        integral, means, errors = carry
        slab = lax.dynamic_slice_in_dim(rates, b * length, length + 1, axis=1)
        width = lax.dynamic_slice_in_dim(widths, b * length, length)
        increments = 0.5 * (slab[:, 1:] + slab[:, :-1]) * width[None, :]
        integrals = integral[:, None] + increments @ inclusive
        discounts = jnp.exp(-integrals)
        pairs = 0.5 * (discounts[:half] + discounts[half : 2 * half])
        mean = jnp.mean(pairs, axis=0)
        error = jnp.std(pairs, axis=0, ddof=1) / jnp.sqrt(count_pairs)
        means = lax.dynamic_update_slice_in_dim(means, mean, b * length, 0)
        errors = lax.dynamic_update_slice_in_dim(errors, error, b * length, 0)
        return integrals[:, -1], means, errors

    empty = jnp.zeros((padded_steps,), dtype)
    init = (jnp.zeros((num_paths,), dtype), empty, empty)
    _, means, errors = lax.fori_loop(0, count, block, init)
    return means[:num_steps], errors[:num_steps]


def time_grid(horizon: jax.Array, num_steps: int) -> jax.Array:
    """``[num_steps + 1]`` equally spaced times ``0, dt, ..., horizon``."""
    return jnp.arange(num_steps + 1, dtype=horizon.dtype) * (horizon / num_steps)
