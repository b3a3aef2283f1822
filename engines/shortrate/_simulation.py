"""Shared set-up of the short-rate engines: argument checks, exact OU paths, bond MC.

The simulations stream over chunks of antithetic pairs (``ROW_CHUNK`` rows at a time):
each chunk reads or writes whole rows of the ``[paths, points]`` layout the API uses, so
every access to the large array is contiguous and the temporaries of a chunk stay in
cache; the bond estimator reads its input once, and the paths are written once after
the zero fill that XLA needs for an in-place loop.  Within a row the time recursions run in
blocks of ``L`` points: inside a block a linear recursion (or a running sum) is one
small ``[rows * blocks, L] x [L, L]`` matrix product and the block starts are carried by
one ``[rows, blocks] x [blocks, blocks]`` product [2].  The normals of a chunk are
generated from their row and column counters (:func:`engines._random.counter_normals`)
one chunk ahead of their use, so no ``[paths, steps]`` array of normals is materialised.

References:
    [1] Glasserman, P. (2003). Monte Carlo Methods in Financial Engineering, 3.3 and 4.2.
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

ROW_CHUNK = 1000  # antithetic pairs per chunk
BLOCK = 16  # points per block of the OU recursion (a multiple of the SIMD width)


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


def row_chunks(half: int) -> tuple[int, int]:
    """``(count, rows)``: ``count`` chunks of ``rows <= ROW_CHUNK`` pairs covering ``half``.

    Chunk ``c`` starts at pair ``min(c rows, half - rows)``, so the last one may overlap
    its predecessor.
    """
    count = -(-half // ROW_CHUNK)
    return count, -(-half // count)


def ou_paths(
    key: jax.Array,
    means: jax.Array,
    mean_reversion: jax.Array,
    volatility: jax.Array,
    dt: jax.Array,
    num_paths: int,
) -> jax.Array:
    """``r_k = m_k + e_k`` and ``m_k - e_k`` (antithetic), ``[paths, points]``, exact OU noise.

    Formula: ``e_0 = 0``, ``e_{k+1} = e_k decay + scale Z_k`` with ``Z`` standard normal,
    ``decay = e^{-a dt}`` and ``scale = sigma sqrt((1 - e^{-2 a dt}) / (2a))`` (the exact
    step of ``de = -a e dt + sigma dW``); ``m`` (``[points]``) is the deterministic mean
    path.  Rows ``i`` and ``i + paths/2``
    use ``Z`` and ``-Z``.  With points in blocks of ``L``, a block starting at ``e_s``
    holds ``e_{s+j} = decay^j e_s + sum_{i<j} scale decay^{j-1-i} Z_{s+i}`` (one
    ``[L, L]`` product for all blocks of a chunk) and the block starts follow
    ``e_{s+L} = decay^L e_s + sum_{i<L} scale decay^{L-1-i} Z_{s+i}`` (one ``[L]``
    product for the sums, one ``[blocks, blocks]`` product for the starts).  Float32
    draws come two per Threefry call, consecutive in the row.  Reference [1], 3.3.1.
    """
    a, sigma = mean_reversion, volatility
    decay = jnp.exp(-a * dt)
    scale = sigma * jnp.sqrt(-jnp.expm1(-2 * a * dt) / (2 * a))
    half = num_paths // 2
    dtype = means.dtype
    num_points = means.shape[0]
    length = BLOCK
    per_word = 1 if np.dtype(dtype) == np.float64 else 2  # draws per Threefry call
    words = length * -(-num_points // (length * per_word))
    blocks = words * per_word // length  # covering num_points, maybe one more
    chunks, rows = row_chunks(half)

    lags = np.arange(length)[None, :] - 1 - np.arange(length)[:, None]  # [i, j] = j - 1 - i
    kernel = jnp.where(lags >= 0, scale * decay ** jnp.asarray(np.maximum(lags, 0), dtype), 0)
    powers = decay ** jnp.arange(length, dtype=dtype)
    ends = scale * powers[::-1]  # e_{s+L} - decay^L e_s = sum_i scale decay^{L-1-i} Z_{s+i}
    block_lags = np.arange(blocks)[None, :] - 1 - np.arange(blocks)[:, None]
    carry = jnp.where(
        block_lags >= 0, (decay**length) ** jnp.asarray(np.maximum(block_lags, 0), dtype), 0
    )

    def first_row(c: jax.Array | int) -> jax.Array:
        return jnp.minimum(c * rows, half - rows)

    def draws(c: jax.Array | int) -> jax.Array:
        return _random.counter_normals(key, first_row(c), (rows, words), dtype)

    def noise_of(packed: jax.Array) -> jax.Array:  # [rows, points]
        flat = _random.unpack_normals(packed, dtype).reshape(rows * blocks, length)
        local = (flat @ kernel).reshape(rows, blocks, length)
        starts = (flat @ ends).reshape(rows, blocks) @ carry
        noise = (local + starts[:, :, None] * powers).reshape(rows, blocks * length)
        return noise[:, :num_points]

    def write(rates: jax.Array, c: jax.Array | int, noise: jax.Array) -> jax.Array:
        first = first_row(c)
        rates = lax.dynamic_update_slice(rates, means + noise, (first, 0))
        return lax.dynamic_update_slice(rates, means - noise, (half + first, 0))

    # Software pipeline: iteration c writes the noise of chunk c - 1 (a loop-carried,
    # hence materialised, array; fused into the two writes it would be computed twice
    # and slowly), computes that of chunk c and draws the normals of chunk c + 1.
    def chunk(
        c: jax.Array, state: tuple[jax.Array, jax.Array, jax.Array]
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        packed, pending, rates = state
        return draws(c + 1), noise_of(packed), write(rates, c - 1, pending)

    state = (draws(1), noise_of(draws(0)), jnp.zeros((num_paths, num_points), dtype))
    _, pending, rates = lax.fori_loop(1, chunks, chunk, state)
    return write(rates, chunks - 1, pending)


def monte_carlo_discounts(times: jax.Array, rates: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean and standard error of ``exp(-int_0^{t_k} r)`` over antithetic pair averages.

    Formula: the trapezoidal integral ``I_k = sum_{m<k} a_m r_m + h_k r_k`` with
    ``a_m = (w_{m-1} + w_m) / 2``, ``h_k = w_{k-1} / 2``, ``w_m = t_{m+1} - t_m``
    (``w_{-1} = w_N = 0``).  The strict prefix sum runs over the whole blocks of ``L``
    points of a row (one product with a strictly triangular matrix of ones), the rest of
    the row (fewer than ``L`` points, one small product) and the block starts (one
    product) [2].  Chunks of rows are accumulated as shifted sums ``S1 = sum (p - c)``,
    ``S2 = sum (p - c)^2`` of the pair averages ``p``, ``c`` the first pair's value (per
    time; it keeps the single pass accurate in float32): ``mean = c + S1/n``,
    ``var = (S2 - S1^2/n) / (n - 1)``, ``se = sqrt(var / n)``.  Reference [1], 4.2.
    """
    num_paths, num_points = rates.shape
    half = num_paths // 2
    dtype = rates.dtype
    length = BLOCK
    blocks, rest = divmod(num_points, length)
    split = blocks * length
    widths = jnp.diff(times)
    before, after = jnp.pad(widths, (1, 0)), jnp.pad(widths, (0, 1))
    inner, own = 0.5 * (before + after), 0.5 * before

    def strictly_upper(n: int) -> jax.Array:  # [i, j] = 1 if i < j
        return jnp.asarray(np.arange(n)[:, None] < np.arange(n)[None, :], dtype)

    # [i, j] = 1 if block i precedes block j (column ``blocks`` is the rest of the row)
    begins = strictly_upper(blocks + 1)[:blocks, : blocks + (rest > 0)]
    bounds = [(0, split)] * (blocks > 0) + [(split, num_points)] * (rest > 0)

    def discounts(x: jax.Array) -> list[jax.Array]:  # [n, points] -> [n, part] per part
        n = x.shape[0]
        integrals = []
        if blocks:
            y = (x[:, :split] * inner[:split]).reshape(n, blocks, length)
            local = (y.reshape(n * blocks, length) @ strictly_upper(length)).reshape(y.shape)
            begin = (local[:, :, -1] + y[:, :, -1]) @ begins
            integrals.append((local + begin[:, :blocks, None]).reshape(n, split))
        if rest:
            tail = (x[:, split:] * inner[split:]) @ strictly_upper(rest)
            integrals.append(tail + begin[:, blocks:] if blocks else tail)
        return [
            jnp.exp(-(i + own[lo:hi] * x[:, lo:hi]))
            for i, (lo, hi) in zip(integrals, bounds, strict=True)
        ]

    def pair_means(top: jax.Array, bottom: jax.Array) -> list[jax.Array]:
        return [0.5 * (t + b) for t, b in zip(discounts(top), discounts(bottom), strict=True)]

    # The parts (whole blocks, rest of the row) stay separate arrays until the end.
    shifts = [p[0] for p in pair_means(rates[:1], rates[half : half + 1])]
    chunks, rows = row_chunks(half)

    def chunk(
        c: jax.Array, sums: list[tuple[jax.Array, jax.Array]]
    ) -> list[tuple[jax.Array, jax.Array]]:
        first = jnp.minimum(c * rows, half - rows)
        top = lax.dynamic_slice_in_dim(rates, first, rows)
        bottom = lax.dynamic_slice_in_dim(rates, half + first, rows)
        # Rows of the last chunk already counted by its predecessor are left out.
        fresh = None if chunks * rows == half else (first + jnp.arange(rows) >= c * rows)
        updated = []
        for (total, squares), p, shift in zip(sums, pair_means(top, bottom), shifts, strict=True):
            d = p - shift if fresh is None else jnp.where(fresh[:, None], p - shift, 0)
            updated.append((total + d.sum(0), squares + (d * d).sum(0)))
        return updated

    zeros = [(jnp.zeros_like(s), jnp.zeros_like(s)) for s in shifts]
    sums = lax.fori_loop(0, chunks, chunk, zeros)
    total, squares = (jnp.concatenate([s[i] for s in sums]) for i in (0, 1))
    n = jnp.asarray(half, dtype)
    means = jnp.concatenate(shifts) + total / n
    variances = (squares - total * total / n) / (n - 1)
    return means[1:], jnp.sqrt(jnp.maximum(variances, 0) / n)[1:]


def time_grid(horizon: jax.Array, num_steps: int) -> jax.Array:
    """``[num_steps + 1]`` equally spaced times ``0, dt, ..., horizon``."""
    return jnp.arange(num_steps + 1, dtype=horizon.dtype) * (horizon / num_steps)
