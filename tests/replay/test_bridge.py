"""The intraday path of a daily candle: its ends, its range, its seed, its volume."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from nexus.assembly.replay import bridge
from nexus.assembly.replay.bridge import MINUTES, day_seed, intraday_path, intraday_volume

# GME's real candle of 2021-01-27 (split-adjusted), and a calm day of BTC.
CANDLES = [
    {"open": 88.707497, "high": 95.0, "low": 62.25, "close": 86.877502},
    {"open": 32564.029297, "high": 32564.029297, "low": 29367.138672, "close": 30432.546875},
    {"open": 1.0004, "high": 1.0013, "low": 0.9995, "close": 1.0001},
]


def _random_candles(count: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(7)
    candles = []
    for _ in range(count):
        open_, close = rng.uniform(50.0, 150.0, 2)
        high = max(open_, close) * rng.uniform(1.0, 1.2)
        low = min(open_, close) / rng.uniform(1.0, 1.2)
        candles.append({"open": open_, "high": high, "low": low, "close": close})
    return candles


@pytest.mark.parametrize("candle", CANDLES + _random_candles(200))
def test_the_path_runs_from_open_to_close_and_touches_high_and_low(
    candle: dict[str, float],
) -> None:
    path = intraday_path(**candle, seed=day_seed("GME", 737_817))

    assert path.shape == (MINUTES,)
    assert path[0] == candle["open"] and path[-1] == candle["close"]
    assert candle["low"] <= path.min() and path.max() <= candle["high"]
    assert path.max() == pytest.approx(candle["high"], rel=1e-12)
    assert path.min() == pytest.approx(candle["low"], rel=1e-12)


def test_a_day_that_opened_at_its_high_never_trades_above_it_and_is_not_flat() -> None:
    candle = CANDLES[1]  # BTC opened at its high

    path = intraday_path(**candle, seed=day_seed("BTC", 737_817))

    assert path.max() == candle["open"]
    assert np.count_nonzero(path == candle["open"]) < 10  # folded back, not flattened


def test_the_same_day_gives_the_same_path_and_another_day_another() -> None:
    candle = CANDLES[0]

    first = intraday_path(**candle, seed=day_seed("GME", 737_817))
    again = intraday_path(**candle, seed=day_seed("GME", 737_817))
    next_day = intraday_path(**candle, seed=day_seed("GME", 737_818))
    other_symbol = intraday_path(**candle, seed=day_seed("AMC", 737_817))

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, next_day)
    assert not np.array_equal(first, other_symbol)


def test_a_flat_day_is_a_flat_path() -> None:
    path = intraday_path(open=1.0, high=1.0, low=1.0, close=1.0, seed=1)

    np.testing.assert_array_equal(path, np.ones(MINUTES))


def test_the_volume_accrues_to_the_days_volume() -> None:
    path = intraday_path(**CANDLES[0], seed=1)

    traded = intraday_volume(path, 373_586_800.0)

    assert traded.shape == (MINUTES,)
    assert traded[-1] == 373_586_800.0
    assert np.all(np.diff(traded) > 0) and traded[0] > 0


def test_the_busiest_minutes_are_those_that_moved_most() -> None:
    path = intraday_path(**CANDLES[0], seed=1)

    per_minute = np.diff(intraday_volume(path, 1e6))
    moves = np.abs(np.diff(np.log(path)))

    assert np.corrcoef(per_minute, moves)[0, 1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "candle",
    [
        {"open": 0.0, "high": 1.0, "low": 0.5, "close": 1.0},
        {"open": 1.0, "high": float("nan"), "low": 0.5, "close": 1.0},
        {"open": 1.0, "high": 2.0, "low": -1.0, "close": 1.0},
    ],
)
def test_a_candle_that_is_not_prices_is_refused(candle: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive numbers"):
        intraday_path(**candle, seed=1)


def test_a_negative_volume_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        intraday_volume(np.ones(MINUTES), -1.0)


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(bridge, optionflags=doctest.NORMALIZE_WHITESPACE)

    assert result.attempted > 0 and result.failed == 0
