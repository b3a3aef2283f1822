"""Largest-Triangle-Three-Buckets (LTTB) downsampling of time series for charts.

The first and last points are kept; the ``n - 2`` points between them are split into
``N - 2`` buckets with edges ``e_i = floor(i (n - 2) / (N - 2)) + 1`` and from each bucket
the point ``b`` is kept that spans the largest triangle with the point ``a`` kept from the
previous bucket and the mean ``c`` of the next bucket (the last point for the last one):

    area(b) = |(a_x - c_x)(b_y - a_y) - (a_x - b_x)(c_y - a_y)| / 2,

ties going to the earliest point.  The bucket edges are computed exactly in integers (the
original computes them in floating point, which can move an edge by one index where
``i (n - 2) / (N - 2)`` is an integer).  The choice is sequential in ``a``: one
``lax.scan`` step per bucket, vectorised over the batch and the bucket's points.

References:
    [1] Steinarsson, S. (2013). Downsampling Time Series for Visual Representation.
        MSc thesis, University of Iceland, ch. 4.2 (Largest-Triangle-Three-Buckets).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, ShapeMismatchError, UnsupportedDtypeError

__all__ = ["DownsampledSeries", "lttb_downsample"]


class DownsampledSeries(NamedTuple):
    """Points kept by the downsampling, each ``[batch..., num_points]``.

    Attributes:
        times: the kept points' times, in the dtype of the input times.
        values: the kept points' values.
        indices: int32 positions of the kept points in the input series.
    """

    times: jax.Array
    values: jax.Array
    indices: jax.Array


def bucket_edges(length: int, num_points: int) -> np.ndarray:
    """``e_0..e_{N-2}`` with ``e_i = floor(i (n - 2) / (N - 2)) + 1``, plus ``e_{N-1} = n``."""
    buckets = num_points - 2
    edges = np.arange(buckets + 1, dtype=np.int64) * (length - 2) // buckets + 1
    return np.append(edges, length)


@partial(jax.jit, static_argnames=("num_points",))
def _lttb_jit(raw_times: jax.Array, values: jax.Array, num_points: int) -> DownsampledSeries:
    """Kept points ``[batch, num_points]`` of ``[batch, n]`` series."""
    length = values.shape[-1]
    # Areas on times relative to the first, in the values' dtype: epochs keep resolution.
    times = (raw_times - raw_times[:, :1]).astype(values.dtype)
    edges = bucket_edges(length, num_points)  # static: shapes depend on it
    starts, stops = edges[:-2], edges[1:-1]  # bucket i is [starts[i], stops[i])
    width = min(int(np.max(stops - starts)), length)
    # Mean of the next bucket (the last point after the last bucket), by sorted segment sums.
    bucket_of = np.searchsorted(edges[:-1], np.arange(1, length), side="right") - 1
    counts = np.bincount(bucket_of, minlength=num_points - 1).astype(np.float64)
    to_mean = jax.vmap(
        lambda row: (
            jax.ops.segment_sum(row[1:], bucket_of, num_points - 1, indices_are_sorted=True)[1:]
            / jnp.asarray(counts[1:], row.dtype)
        )
    )
    mean_times, mean_values = to_mean(times), to_mean(values)
    # A window of ``width`` points from the bucket start; near the end of the series the
    # slice start is clamped, so membership is tested on absolute positions.
    window_starts = np.minimum(starts, length - width)
    offsets = np.arange(width)

    def choose(
        kept: tuple[jax.Array, jax.Array],
        bucket: tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array],
    ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        ax, ay = kept
        cx, cy, window_start, start, stop = bucket
        bx = lax.dynamic_slice_in_dim(times, window_start, width, axis=1)
        by = lax.dynamic_slice_in_dim(values, window_start, width, axis=1)
        positions = window_start + offsets
        in_bucket = (positions >= start) & (positions < stop)
        twice_area = jnp.abs(
            (ax - cx)[:, None] * (by - ay[:, None]) - (ax[:, None] - bx) * (cy - ay)[:, None]
        )
        best = jnp.argmax(jnp.where(in_bucket[None, :], twice_area, -1), axis=1)
        pick = jnp.take_along_axis
        chosen = (pick(bx, best[:, None], 1)[:, 0], pick(by, best[:, None], 1)[:, 0])
        return chosen, window_start + best.astype(jnp.int32)

    buckets = (
        mean_times.T,
        mean_values.T,
        jnp.asarray(window_starts, jnp.int32),
        jnp.asarray(starts, jnp.int32),
        jnp.asarray(stops, jnp.int32),
    )
    _, chosen = lax.scan(choose, (times[:, 0], values[:, 0]), buckets)
    batch = values.shape[0]
    first = jnp.zeros((batch, 1), jnp.int32)
    last = jnp.full((batch, 1), length - 1, jnp.int32)
    indices = jnp.concatenate([first, chosen.T, last], axis=1)
    return DownsampledSeries(
        jnp.take_along_axis(raw_times, indices, axis=1),
        jnp.take_along_axis(values, indices, axis=1),
        indices,
    )


def lttb_downsample(
    *,
    times: ArrayLike,
    values: ArrayLike,
    num_points: int,
    dtype: DTypeLike | None = None,
) -> DownsampledSeries:
    """Downsample series to ``num_points`` points with Largest-Triangle-Three-Buckets.

    Formula: keep the first and last points; from bucket ``i`` (points
    ``[e_i, e_{i+1})``, ``e_i = floor(i (n-2)/(N-2)) + 1``) keep the ``b`` maximising
    ``|(a_x - c_x)(b_y - a_y) - (a_x - b_x)(c_y - a_y)|`` with ``a`` the point kept before
    and ``c`` the mean of bucket ``i + 1``.  ``num_points >= n`` returns the input.

    Example:
        >>> import numpy as np
        >>> from engines.charts import lttb_downsample
        >>> t = np.arange(8.0)
        >>> y = np.array([0.0, 1.0, 0.0, 5.0, 0.0, 1.0, -4.0, 0.0])
        >>> lttb_downsample(times=t, values=y, num_points=4).indices
        Array([0, 3, 6, 7], dtype=int32)

    Args:
        times: ``[n]`` or ``[batch..., n]`` int or float, non-decreasing along the last
            axis (x coordinates, e.g. epoch seconds).  Areas are computed on
            ``times - times[..., :1]`` in ``dtype`` so large epochs keep their resolution.
        values: ``[batch..., n]`` float, the series (y coordinates); ``times`` broadcasts
            against it, so one time axis can serve several series of equal length.
        num_points: int, points to keep, ``>= 3`` (or ``>= n`` to keep all).
        dtype: float32 or float64; default None meaning the dtype of ``values``.

    Returns:
        :class:`DownsampledSeries` (``times``, ``values``, ``indices``), each
        ``[batch..., min(num_points, n)]``.

    Raises:
        ShapeMismatchError, NonFiniteInputError, ParameterRangeError, InvalidRangeError
        (times decreasing).

    References:
        [1] Steinarsson (2013), Downsampling Time Series for Visual Representation, 4.2.
    """
    dt = v.infer_dtype(values, dtype)
    value_array = v.as_array("values", values, dt)
    time_array = jnp.asarray(times)
    if not (
        jnp.issubdtype(time_array.dtype, jnp.integer)
        or jnp.issubdtype(time_array.dtype, jnp.floating)
    ):
        raise UnsupportedDtypeError(f"times must be an int or float array, not {time_array.dtype}")
    v.check_rank("values", value_array, tuple(range(1, 8)))
    v.check_rank("times", time_array, tuple(range(1, 8)))
    shape = v.broadcast_shape([("times", time_array), ("values", value_array)])
    if time_array.shape[-1] != value_array.shape[-1]:
        raise ShapeMismatchError(
            f"times{tuple(time_array.shape)} and values{tuple(value_array.shape)} must have "
            "the same length along the last axis"
        )
    v.check_all(finite=[("times", time_array), ("values", value_array)])
    v.check_non_decreasing("times", time_array)
    length = shape[-1]
    time_array = jnp.broadcast_to(time_array, shape)
    value_array = jnp.broadcast_to(value_array, shape)
    if num_points >= length:
        indices = jnp.broadcast_to(jnp.arange(length, dtype=jnp.int32), shape)
        return DownsampledSeries(time_array, value_array, indices)
    if num_points < 3:
        raise ParameterRangeError(
            f"num_points={num_points} is too small; LTTB keeps the two ends plus at least "
            "one bucket, so pass num_points >= 3"
        )
    kept = _lttb_jit(time_array.reshape(-1, length), value_array.reshape(-1, length), num_points)
    return DownsampledSeries(*(x.reshape((*shape[:-1], num_points)) for x in kept))
