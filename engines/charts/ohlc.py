"""OHLC(V) resampling of a tick series into fixed-width time bars.

Tick ``j`` at time ``t_j`` falls in bar ``k = floor((t_j - origin) / width)``; bar ``k``
covers ``[origin + k width, origin + (k + 1) width)`` and gets

    open = price of its first tick,   high = max price,   low = min price,
    close = price of its last tick,   volume = sum of volumes,   count = number of ticks,

computed with segment reductions (first / last by the smallest / largest tick position).
Bars are fixed-width and contiguous, so a bar without ticks is kept and flagged by
``tick_counts == 0``: its prices are NaN and its volume 0, or, with ``fill_empty``, all
four prices carry the previous close (a flat bar, the usual charting convention).  Drop
empty bars with ``bars.tick_counts > 0`` as a mask.

References:
    [1] Murphy, J. J. (1999). Technical Analysis of the Financial Markets, ch. 3
        (bar charts).
    [2] pandas ``Series.resample(...).ohlc()``: the same bars with ``closed="left"``,
        ``label="left"`` and ``origin="epoch"``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, UnsupportedDtypeError

__all__ = ["OHLCBars", "ohlc_bars"]


class OHLCBars(NamedTuple):
    """Fixed-width bars, each ``[num_bars]``.

    Attributes:
        bar_starts: left edge of each bar, in the timestamps' dtype (int64 or float64).
        opens, highs, lows, closes: float prices; NaN in empty bars (unless filled).
        volumes: float, summed volume (tick count when no volumes were given).
        tick_counts: int32 ticks per bar; 0 marks an empty bar.
    """

    bar_starts: jax.Array
    opens: jax.Array
    highs: jax.Array
    lows: jax.Array
    closes: jax.Array
    volumes: jax.Array
    tick_counts: jax.Array


@partial(jax.jit, static_argnames=("num_bars", "fill_empty"))
def _ohlc_jit(
    prices: jax.Array,
    timestamps: jax.Array,
    volumes: jax.Array,
    origin: jax.Array,
    width: jax.Array,
    num_bars: int,
    fill_empty: bool,
) -> OHLCBars:
    if jnp.issubdtype(timestamps.dtype, jnp.integer):
        bars = (timestamps - origin) // width
    else:
        bars = jnp.floor((timestamps - origin) / width)
    # Ticks before the first bar or after the last go to segment num_bars, which is dropped.
    bars = jnp.where((bars >= 0) & (bars < num_bars), bars, num_bars).astype(jnp.int32)
    positions = jnp.arange(prices.shape[0], dtype=jnp.int32)
    counts = jax.ops.segment_sum(jnp.ones_like(bars), bars, num_bars)
    filled = counts > 0
    first = jax.ops.segment_min(positions, bars, num_bars)
    last = jax.ops.segment_max(positions, bars, num_bars)
    nan = jnp.asarray(jnp.nan, prices.dtype)
    opens = jnp.where(filled, prices[jnp.where(filled, first, 0)], nan)
    closes = jnp.where(filled, prices[jnp.where(filled, last, 0)], nan)
    highs = jnp.where(filled, jax.ops.segment_max(prices, bars, num_bars), nan)
    lows = jnp.where(filled, jax.ops.segment_min(prices, bars, num_bars), nan)
    if fill_empty:
        # The close of the latest non-empty bar at or before each bar (-1: none yet).
        latest = jax.lax.cummax(jnp.where(filled, jnp.arange(num_bars), -1))
        carried = jnp.where(latest >= 0, closes[jnp.maximum(latest, 0)], nan)
        opens, highs, lows, closes = (
            jnp.where(filled, x, carried) for x in (opens, highs, lows, closes)
        )
    starts = origin + jnp.arange(num_bars, dtype=timestamps.dtype) * width
    return OHLCBars(
        starts,
        opens,
        highs,
        lows,
        closes,
        jax.ops.segment_sum(volumes, bars, num_bars),
        counts.astype(jnp.int32),
    )


def ohlc_bars(
    *,
    prices: ArrayLike,
    timestamps: ArrayLike,
    bar_width: float,
    volumes: ArrayLike | None = None,
    origin: float | None = None,
    num_bars: int | None = None,
    fill_empty: bool = False,
    dtype: DTypeLike | None = None,
) -> OHLCBars:
    """Open, high, low, close and volume of a tick series in fixed-width time bars.

    Formula: tick ``j`` goes to bar ``k = floor((t_j - origin) / bar_width)``; per bar
    ``open = p_first``, ``high = max p``, ``low = min p``, ``close = p_last``,
    ``volume = sum v``.  Empty bars have ``tick_counts == 0`` and NaN prices (or the
    previous close with ``fill_empty=True``); ticks outside the bars are dropped.

    Example:
        >>> import numpy as np
        >>> from engines.charts import ohlc_bars
        >>> bars = ohlc_bars(prices=np.array([10.0, 12.0, 9.0, 11.0, 13.0]),
        ...                  timestamps=np.array([0, 20, 40, 130, 190]), bar_width=60,
        ...                  volumes=np.array([1.0, 2.0, 1.0, 5.0, 1.0]))
        >>> bars.opens, bars.highs
        (Array([10., nan, 11., 13.], dtype=float64), Array([12., nan, 11., 13.], dtype=float64))
        >>> bars.lows, bars.closes
        (Array([ 9., nan, 11., 13.], dtype=float64), Array([ 9., nan, 11., 13.], dtype=float64))
        >>> bars.volumes, bars.tick_counts
        (Array([4., 0., 5., 1.], dtype=float64), Array([3, 0, 1, 1], dtype=int32))

    Args:
        prices: ``[n]`` float, trade prices in time order.
        timestamps: ``[n]`` int or float, non-decreasing tick times (e.g. epoch seconds;
            kept in int64 or float64 whatever ``dtype`` is).
        bar_width: float (or int for int timestamps), bar length in timestamp units, > 0.
        volumes: ``[n]`` float, traded volume per tick ``>= 0``; default None meaning 1
            per tick (volume = tick count).
        origin: float, left edge of bar 0; default None meaning the first timestamp
            rounded down to a multiple of ``bar_width`` (bars aligned to the epoch).
        num_bars: int, number of bars; default None meaning up to the bar of the last tick.
        fill_empty: bool, give empty bars the previous close instead of NaN; default False.
        dtype: float32 or float64 for prices and volumes; default None meaning the dtype
            of ``prices``.

    Returns:
        :class:`OHLCBars` of ``[num_bars]`` arrays.

    Raises:
        ShapeMismatchError, NonFiniteInputError, NonPositiveValueError,
        ParameterRangeError, InvalidRangeError (timestamps decreasing),
        UnsupportedDtypeError.

    References:
        [1] Murphy (1999), Technical Analysis of the Financial Markets, ch. 3;
        [2] pandas ``resample(...).ohlc()`` (left-closed, left-labelled, epoch origin).
    """
    dt = v.infer_dtype(prices, dtype)
    price_array = v.as_array("prices", prices, dt)
    raw_times = np.asarray(timestamps)
    if np.issubdtype(raw_times.dtype, np.integer):
        time_dtype: np.dtype = np.dtype(np.int64)
    elif np.issubdtype(raw_times.dtype, np.floating):
        time_dtype = np.dtype(np.float64)
    else:
        raise UnsupportedDtypeError(f"timestamps must be int or float, not {raw_times.dtype}")
    time_array = jnp.asarray(raw_times, time_dtype)
    volume_array = v.as_array("volumes", 1.0 if volumes is None else volumes, dt)
    volume_array = jnp.broadcast_to(volume_array, price_array.shape)
    v.check_rank("prices", price_array, 1)
    v.check_same_shape("prices", price_array, "timestamps", time_array)
    v.check_same_shape("prices", price_array, "volumes", volume_array)
    if price_array.shape[0] == 0:
        raise ParameterRangeError("the tick series is empty; pass at least one tick")
    v.check_all(
        finite=[("prices", price_array), ("timestamps", time_array), ("volumes", volume_array)],
        non_negative=[("volumes", volume_array)],
    )
    v.check_non_decreasing("timestamps", time_array)
    if not bar_width > 0:
        raise ParameterRangeError(f"bar_width={bar_width} must be > 0")
    width = np.asarray(bar_width, time_dtype)
    if width != bar_width:
        raise UnsupportedDtypeError("bar_width must be a whole number for int timestamps")
    first_time, last_time = raw_times[0], raw_times[-1]
    start = np.asarray((first_time // width) * width if origin is None else origin, time_dtype)
    if num_bars is None:
        num_bars = int((last_time - start) // width) + 1
    if num_bars < 1:
        raise ParameterRangeError(f"num_bars={num_bars} must be >= 1")
    return _ohlc_jit(
        price_array,
        time_array,
        volume_array,
        jnp.asarray(start),
        jnp.asarray(width),
        num_bars,
        fill_empty,
    )
