"""Chart engines: LTTB against a pure-Python reference, OHLC bars against a NumPy reference."""

from __future__ import annotations

import datetime as dt
import math

import jax.numpy as jnp
import numpy as np
import pytest

from engines.charts import lttb_downsample, ohlc_bars
from engines.errors import (
    InvalidRangeError,
    NonFiniteInputError,
    ParameterRangeError,
    ShapeMismatchError,
)
from tests.engines.conftest import SHARED_DATA

CRYPTO = SHARED_DATA / "crypto"


def lttb_reference(
    x: list[float], y: list[float], threshold: int, *, exact_edges: bool = True
) -> list[int]:
    """Steinarsson's LTTB, line by line; ``exact_edges`` uses integer bucket edges."""
    n = len(x)
    if threshold >= n:
        return list(range(n))
    every = (n - 2) / (threshold - 2)

    def edge(i: int) -> int:
        if exact_edges:
            return i * (n - 2) // (threshold - 2) + 1
        return math.floor(i * every) + 1

    a = 0
    kept = [0]
    for i in range(threshold - 2):
        avg_start, avg_end = edge(i + 1), min(edge(i + 2), n)
        avg_x = sum(x[avg_start:avg_end]) / (avg_end - avg_start)
        avg_y = sum(y[avg_start:avg_end]) / (avg_end - avg_start)
        max_area, next_a = -1.0, -1
        for j in range(edge(i), edge(i + 1)):
            area = abs((x[a] - avg_x) * (y[j] - y[a]) - (x[a] - x[j]) * (avg_y - y[a])) * 0.5
            if area > max_area:
                max_area, next_a = area, j
        kept.append(next_a)
        a = next_a
    kept.append(n - 1)
    return kept


def load_daily(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch seconds, closes and volumes of a daily OHLCV file in ``shared/data/crypto``."""
    path = CRYPTO / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"real data not found at {path} (expected ../shared/data)")
    rows = [line.split(",") for line in path.read_text().strip().splitlines()[1:]]
    seconds = [
        int(dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.UTC).timestamp()) for r in rows
    ]
    return (
        np.array(seconds, np.int64),
        np.array([float(r[4]) for r in rows]),
        np.array([float(r[6]) for r in rows]),
    )


@pytest.mark.parametrize(("length", "num_points"), [(50, 3), (101, 10), (1000, 37), (5000, 500)])
def test_lttb_matches_reference_on_random_walks(length: int, num_points: int) -> None:
    rng = np.random.default_rng(length)
    x = np.cumsum(rng.uniform(0.1, 2.0, length))
    y = np.cumsum(rng.standard_normal(length))
    got = lttb_downsample(times=x, values=y, num_points=num_points)
    expected = lttb_reference(list(x), list(y), num_points)
    np.testing.assert_array_equal(got.indices, expected)
    np.testing.assert_array_equal(got.times, x[expected])
    np.testing.assert_array_equal(got.values, y[expected])
    assert got.indices[0] == 0 and got.indices[-1] == length - 1


def test_lttb_integer_edges_agree_with_floating_edges_where_they_coincide() -> None:
    rng = np.random.default_rng(1)
    for length, num_points in [(1000, 100), (777, 50), (2982, 300)]:
        every = (length - 2) / (num_points - 2)
        same = all(
            math.floor(i * every) == i * (length - 2) // (num_points - 2) for i in range(num_points)
        )
        if not same:
            continue
        x, y = np.arange(length, dtype=float), rng.standard_normal(length)
        got = lttb_downsample(times=x, values=y, num_points=num_points).indices
        floating = lttb_reference(list(x), list(y), num_points, exact_edges=False)
        np.testing.assert_array_equal(got, floating)


@pytest.mark.parametrize("num_points", [100, 500])
def test_lttb_on_real_bitcoin_closes(num_points: int) -> None:
    seconds, closes, _ = load_daily("BTC-USD")
    got = lttb_downsample(times=seconds, values=closes, num_points=num_points)
    expected = lttb_reference([float(s) for s in seconds - seconds[0]], list(closes), num_points)
    np.testing.assert_array_equal(got.indices, expected)
    assert got.times.dtype == jnp.int64
    np.testing.assert_array_equal(got.times, seconds[expected])
    assert np.all(np.diff(np.asarray(got.indices)) > 0)


def test_lttb_batches_series_of_equal_length() -> None:
    eth_seconds, eth, _ = load_daily("ETH-USD")
    usdt_seconds, usdt, _ = load_daily("USDT-USD")
    values = np.stack([eth, usdt])
    times = np.stack([eth_seconds, usdt_seconds])
    got = lttb_downsample(times=times, values=values, num_points=200)
    assert got.indices.shape == (2, 200)
    for row in range(2):
        expected = lttb_reference(
            [float(s) for s in times[row] - times[row, 0]], list(values[row]), 200
        )
        np.testing.assert_array_equal(got.indices[row], expected)
    # One shared time axis broadcasts over the batch.
    shared = lttb_downsample(times=eth_seconds, values=values, num_points=200)
    np.testing.assert_array_equal(shared.indices[0], got.indices[0])


def test_lttb_float32_keeps_ends_and_mostly_agrees() -> None:
    rng = np.random.default_rng(3)
    x = 1.7e9 + 60.0 * np.arange(20000)  # epoch seconds: float32 alone would lose minutes
    y = np.cumsum(rng.standard_normal(20000))
    got = lttb_downsample(times=x, values=y.astype(np.float32), num_points=400)
    assert got.values.dtype == jnp.float32 and got.times.dtype == jnp.float64
    expected = np.array(lttb_reference(list(x - x[0]), list(y), 400))
    assert got.indices[0] == 0 and got.indices[-1] == 19999
    assert np.mean(np.asarray(got.indices) == expected) > 0.95


def test_lttb_returns_input_when_asked_for_as_many_points() -> None:
    x, y = np.arange(5.0), np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    for n in (5, 6, 1000):
        got = lttb_downsample(times=x, values=y, num_points=n)
        np.testing.assert_array_equal(got.indices, np.arange(5))
        np.testing.assert_array_equal(got.values, y)


def test_lttb_validation_errors() -> None:
    x, y = np.arange(10.0), np.ones(10)
    with pytest.raises(ParameterRangeError, match="num_points"):
        lttb_downsample(times=x, values=y, num_points=2)
    with pytest.raises(InvalidRangeError, match="times"):
        lttb_downsample(times=x[::-1], values=y, num_points=4)
    with pytest.raises(NonFiniteInputError, match="values"):
        lttb_downsample(times=x, values=np.where(x == 3, np.nan, y), num_points=4)
    with pytest.raises(ShapeMismatchError):
        lttb_downsample(times=np.arange(9.0), values=y, num_points=4)


def ohlc_reference(
    t: np.ndarray, p: np.ndarray, vol: np.ndarray, width: float, origin: float, num_bars: int
) -> dict[str, np.ndarray]:
    """Bars by binary search on the bar edges (left-closed), NaN prices where empty."""
    edges = origin + np.arange(num_bars + 1) * width
    starts = np.searchsorted(t, edges[:-1], side="left")
    stops = np.searchsorted(t, edges[1:], side="left")
    out = {k: np.full(num_bars, np.nan) for k in ("opens", "highs", "lows", "closes")}
    out["volumes"] = np.zeros(num_bars)
    out["tick_counts"] = stops - starts
    for k, (lo, hi) in enumerate(zip(starts, stops, strict=True)):
        if hi > lo:
            out["opens"][k], out["closes"][k] = p[lo], p[hi - 1]
            out["highs"][k], out["lows"][k] = p[lo:hi].max(), p[lo:hi].min()
            out["volumes"][k] = vol[lo:hi].sum()
    return out


def assert_bars_equal(bars, expected: dict[str, np.ndarray], rtol: float = 0.0) -> None:
    for name, values in expected.items():
        np.testing.assert_allclose(np.asarray(getattr(bars, name)), values, rtol=rtol, err_msg=name)


def test_ohlc_matches_numpy_reference_on_random_ticks() -> None:
    rng = np.random.default_rng(4)
    t = np.sort(rng.integers(1_700_000_000, 1_700_086_400, 20000))  # one day, second stamps
    t[5000:5400] = t[5000]  # a burst of ticks with one timestamp
    p = 100 + np.cumsum(rng.standard_normal(t.size)) * 0.05
    vol = rng.exponential(3.0, t.size)
    t = t[(t < 1_700_030_000) | (t > 1_700_040_000)]  # a gap: empty bars
    p, vol = p[: t.size], vol[: t.size]
    bars = ohlc_bars(prices=p, timestamps=t, volumes=vol, bar_width=300)
    origin = t[0] // 300 * 300
    num_bars = (t[-1] - origin) // 300 + 1
    assert bars.tick_counts.shape == (num_bars,)
    assert_bars_equal(bars, ohlc_reference(t, p, vol, 300, origin, num_bars), rtol=1e-12)
    np.testing.assert_array_equal(bars.bar_starts, origin + 300 * np.arange(num_bars))
    assert int(np.sum(np.asarray(bars.tick_counts) == 0)) > 20
    assert int(np.sum(bars.tick_counts)) == t.size


def test_ohlc_float_timestamps_origin_num_bars_and_float32() -> None:
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0.0, 1000.0, 3000))
    p, vol = rng.uniform(10, 20, 3000), rng.uniform(0, 1, 3000)
    bars = ohlc_bars(prices=p, timestamps=t, volumes=vol, bar_width=7.5, origin=100.0, num_bars=80)
    # Ticks before 100 or from 700 on fall outside the 80 bars and are dropped.
    assert_bars_equal(bars, ohlc_reference(t, p, vol, 7.5, 100.0, 80), rtol=1e-12)
    f32 = ohlc_bars(
        prices=p.astype(np.float32), timestamps=t, bar_width=7.5, origin=100.0, num_bars=80
    )
    assert f32.closes.dtype == jnp.float32
    np.testing.assert_allclose(f32.closes, bars.closes, rtol=1e-6)
    np.testing.assert_array_equal(f32.volumes, bars.tick_counts)  # no volumes: tick counts


def test_ohlc_fill_empty_carries_the_previous_close() -> None:
    bars = ohlc_bars(
        prices=np.array([5.0, 6.0, 4.0, 7.0]),
        timestamps=np.array([61, 70, 250, 251]),
        bar_width=60,
        origin=0,
        fill_empty=True,
    )
    np.testing.assert_array_equal(bars.tick_counts, [0, 2, 0, 0, 2])
    np.testing.assert_array_equal(bars.opens, [np.nan, 5.0, 6.0, 6.0, 4.0])
    np.testing.assert_array_equal(bars.highs, [np.nan, 6.0, 6.0, 6.0, 7.0])
    np.testing.assert_array_equal(bars.closes, [np.nan, 6.0, 6.0, 6.0, 7.0])
    np.testing.assert_array_equal(bars.volumes, [0, 2, 0, 0, 2])


def test_ohlc_weekly_bars_from_real_bitcoin_closes() -> None:
    seconds, closes, volumes = load_daily("BTC-USD")
    week = 7 * 86400
    bars = ohlc_bars(prices=closes, timestamps=seconds, volumes=volumes, bar_width=week)
    origin = seconds[0] // week * week
    num_bars = (seconds[-1] - origin) // week + 1
    assert_bars_equal(
        bars, ohlc_reference(seconds, closes, volumes, week, origin, num_bars), rtol=1e-12
    )
    counts = np.asarray(bars.tick_counts)
    assert np.all(counts[1:-1] == 7)  # a complete daily series: 7 days in every full week


def test_ohlc_validation_errors() -> None:
    t, p = np.array([0, 10, 5]), np.array([1.0, 2.0, 3.0])
    with pytest.raises(InvalidRangeError, match="timestamps"):
        ohlc_bars(prices=p, timestamps=t, bar_width=60)
    with pytest.raises(ParameterRangeError, match="bar_width"):
        ohlc_bars(prices=p, timestamps=np.sort(t), bar_width=0)
    with pytest.raises(ShapeMismatchError):
        ohlc_bars(prices=p[:2], timestamps=np.sort(t), bar_width=60)
    with pytest.raises(NonFiniteInputError, match="prices"):
        ohlc_bars(prices=np.array([1.0, np.nan, 2.0]), timestamps=np.sort(t), bar_width=60)
