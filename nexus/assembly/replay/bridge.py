"""An intraday path for one daily candle: a Brownian bridge in log price, fitted to the range.

A daily candle says where the day opened and closed and how far it went; the replay needs a
price for every minute in between. The path is a Brownian bridge in log space from ln(open)
to ln(close),

    x(t) = ln(open) + t (ln(close) - ln(open)) + sigma (W(t) - t W(1)),   t in [0, 1],

with the day's volatility sigma estimated from its range (Parkinson [1]):

    sigma = ln(high / low) / sqrt(4 ln 2).

The bridge is then fitted to [low, high] by a monotone, piecewise-linear map of its values
that keeps everything between the open and the close and stretches (or squeezes) the part
above to end at ln(high) and the part below to end at ln(low) (folded back instead, on a day
that opened or closed at its high or low): the path starts at the open,
ends at the close and touches the high and the low, at the times the bridge peaked and
troughed. Of a few bridges drawn, the one needing the least stretch is kept, so the fitted
path still looks like a random walk. Everything is seeded by (symbol, day): a day always
gives the same path.

Volume accrues with activity: each minute trades in proportion to its absolute log move
plus the day's mean move (so quiet minutes still trade), ending at the day's volume.

#### References
[1] Parkinson, M. (1980). The Extreme Value Method for Estimating the Variance of the Rate
    of Return. Journal of Business 53(1), 61-65.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

MINUTES = 1440  # points of a path: minute 0 trades at the open, minute 1439 at the close
PARKINSON = 1.0 / math.sqrt(4.0 * math.log(2.0))
CANDIDATES = 16  # bridges drawn per day, of which the least stretched is kept
SEED = 20210128


def day_seed(symbol: str, day_ordinal: int) -> tuple[int, int, int]:
    """The seed of `symbol`'s path on the day with this proleptic ordinal (`date.toordinal()`).

    crc32 rather than `hash()`: Python salts string hashes per process.
    """
    return (SEED, zlib.crc32(symbol.encode()), day_ordinal)


def intraday_path(
    *, open: float, high: float, low: float, close: float, seed: int | Sequence[int]
) -> np.ndarray:
    """Prices of the day, minute by minute, from `open` to `close` within [`low`, `high`].

    Example:

    >>> path = intraday_path(open=100.0, high=110.0, low=95.0, close=105.0, seed=1)
    >>> path.shape, float(path[0]), float(path[-1])
    ((1440,), 100.0, 105.0)
    >>> round(float(path.max()), 9), round(float(path.min()), 9)
    (110.0, 95.0)

    Args:
      open: the day's first price; positive.
      high: the day's highest price; widened to the open and close when below them.
      low: the day's lowest price, positive; widened to the open and close when above them.
      close: the day's last price; positive.
      seed: NumPy seed of the path (`day_seed(symbol, day)` in the replay).

    Returns:
      float64 array of shape [MINUTES]: the price at the start of each minute of the day,
      `open` first and `close` last.
    """
    prices = np.array([open, high, low, close], dtype=np.float64)
    if not (np.all(np.isfinite(prices)) and np.all(prices > 0)):
        raise ValueError(f"open, high, low and close must be positive numbers, not {prices}")
    start, end = math.log(open), math.log(close)
    # Vendor candles occasionally open or close a hair outside their own range.
    floor = min(math.log(low), start, end)
    ceiling = max(math.log(high), start, end)
    sigma = (ceiling - floor) * PARKINSON

    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, MINUTES)
    steps = rng.standard_normal((CANDIDATES, MINUTES - 1)) * (sigma * math.sqrt(t[1]))
    walks = np.concatenate([np.zeros((CANDIDATES, 1)), np.cumsum(steps, axis=1)], axis=1)
    bridges = start + t * (end - start) + (walks - t * walks[:, -1:])
    # A day that opened or closed at its high (low) never traded above (below) it: fold the
    # bridge back at that price rather than flatten it there.
    lower, upper = min(start, end), max(start, end)
    if ceiling <= upper:
        bridges = np.where(bridges > upper, 2 * upper - bridges, bridges)
    if floor >= lower:
        bridges = np.where(bridges < lower, 2 * lower - bridges, bridges)
    fitted, stretch = _fit_range(bridges, start, end, floor, ceiling)
    path = np.exp(fitted[int(np.argmin(stretch))])
    np.clip(path, min(low, open, close), max(high, open, close), out=path)
    path[0], path[-1] = open, close  # exactly, whatever exp(log(x)) rounds to
    return path


def _fit_range(
    bridges: np.ndarray, start: float, end: float, floor: float, ceiling: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each bridge (rows) mapped onto [floor, ceiling], and how far each had to be stretched.

    Values between the open and the close stay; those above max(start, end) are scaled to end
    at `ceiling`, those below min(start, end) to end at `floor`. A bridge that never leaves the
    open-close band on a side that needs it cannot touch that extreme: it scores infinitely.
    """
    lower, upper = min(start, end), max(start, end)
    peaks = bridges.max(axis=1, keepdims=True)
    troughs = bridges.min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(peaks > upper, (ceiling - upper) / (peaks - upper), 0.0)
        down = np.where(troughs < lower, (lower - floor) / (lower - troughs), 0.0)
    fitted = np.where(
        bridges > upper,
        upper + (bridges - upper) * up,
        np.where(bridges < lower, lower - (lower - bridges) * down, bridges),
    )
    stretch = _distortion(up, ceiling > upper) + _distortion(down, floor < lower)
    return fitted, stretch.ravel()


def _distortion(scale: np.ndarray, needed: bool) -> np.ndarray:
    """|ln scale| where the side has an extreme to reach (inf if the bridge cannot), else 0."""
    if not needed:
        return np.zeros_like(scale)
    with np.errstate(divide="ignore"):
        return np.where(scale > 0, np.abs(np.log(scale)), np.inf)


def intraday_volume(path: np.ndarray, volume: float) -> np.ndarray:
    """Volume traded from the open up to and including each minute of `path`.

    Each minute's share is |its log move| plus the day's mean |log move|; the opening minute
    trades the mean. The last value is exactly `volume`.

    Args:
      path: float64 array of shape [MINUTES], the day's prices (`intraday_path`).
      volume: the day's volume; non-negative.

    Returns:
      float64 array of shape [MINUTES], non-decreasing, ending at `volume`.
    """
    if not (math.isfinite(volume) and volume >= 0):
        raise ValueError(f"volume must be a non-negative number, not {volume}")
    moves = np.abs(np.diff(np.log(path)))
    usual = moves.mean() if moves.size and moves.mean() > 0 else 1.0
    shares = np.concatenate([[usual], moves + usual])
    traded = np.cumsum(shares) * (volume / shares.sum())
    traded[-1] = volume
    return traded
