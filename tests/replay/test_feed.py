"""The market replay over the demo's real candles: ticks in market-time order, day fields that
add up, nothing on days a symbol did not trade, a retained last tick, and the clock's wrap."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from nexus.assembly.replay import Replay, ReplayError, ReplaySettings
from nexus.assembly.replay.feed import MarketClock
from nexus.events import MarketTick, decode, market_channel
from nexus.stores import Stores
from tests.replay.support import END, WALL_CLOCK, received

FRIDAY = dt.date(2021, 1, 22)  # GME's +51% day, then a weekend
HALF_HOURLY = ReplaySettings(speed=1800.0, tick_seconds=1.0, start=FRIDAY)
STEPS_PER_DAY = 48


async def _candles(stores: Stores, database: str, symbol: str) -> dict[dt.date, dict]:
    rows = await stores.require_analytics().query(
        f"SELECT date, open, high, low, close, volume FROM {database}.candles FINAL "
        "WHERE symbol = {symbol:String} AND date BETWEEN '2021-01-20' AND '2021-01-31'",
        {"symbol": symbol},
    )
    return {row.pop("date"): row for row in rows}


async def test_a_bounded_replay_publishes_btc_and_gme_in_market_time_order(
    replay_stores: Stores,
) -> None:
    bus = replay_stores.require_bus()
    subscription = await bus.subscribe("market.*", END)
    replay = await Replay.load(replay_stores, HALF_HOURLY, wall_clock=lambda: WALL_CLOCK)

    for _ in range(4 * STEPS_PER_DAY):  # Friday to Monday
        await replay.step()
    ticks = await received(bus, subscription, MarketTick)

    by_symbol: dict[str, list[MarketTick]] = defaultdict(list)
    for tick in ticks:
        by_symbol[tick.symbol].append(tick)
    assert {"BTC", "ETH", "USDT", "GME", "AMC"} <= set(by_symbol)
    assert all(tick.published_at == WALL_CLOCK for tick in ticks)
    btc, gme = by_symbol["BTC"], by_symbol["GME"]
    assert [tick.at for tick in btc] == [
        dt.datetime(2021, 1, 22, tzinfo=dt.UTC) + step * dt.timedelta(minutes=30)
        for step in range(4 * STEPS_PER_DAY)
    ]
    # Stocks do not trade at the weekend: nothing from GME on the 23rd and 24th.
    assert sorted({tick.at.date() for tick in gme}) == [FRIDAY, dt.date(2021, 1, 25)]
    assert len(gme) == 2 * STEPS_PER_DAY
    assert btc[0].asset_class == "crypto" and gme[0].asset_class == "stock"

    candles = {
        "BTC": await _candles(replay_stores, "crypto", "BTC"),
        "GME": await _candles(replay_stores, "micro", "GME"),
    }
    for symbol, series in (("BTC", btc), ("GME", gme)):
        days: dict[dt.date, list[MarketTick]] = defaultdict(list)
        for tick in series:
            days[tick.at.date()].append(tick)
        for day, day_ticks in days.items():
            candle = candles[symbol][day]
            previous = max(d for d in candles[symbol] if d < day)
            first = day_ticks[0]
            assert first.price == first.open == candle["open"]
            for before, tick in itertools.pairwise(day_ticks):
                assert tick.at > before.at
                assert tick.open == candle["open"]
                assert tick.previous_close == candles[symbol][previous]["close"]
                assert candle["low"] <= tick.low <= tick.price <= tick.high <= candle["high"]
                assert tick.high >= before.high and tick.low <= before.low
                assert before.volume < tick.volume < candle["volume"]

    last = await bus.last([market_channel("BTC"), market_channel("GME")])
    assert last[0] is not None and decode(last[0]) == btc[-1]
    assert last[1] is not None and decode(last[1]) == gme[-1]


async def test_the_last_minute_of_a_day_is_its_candle(replay_stores: Stores) -> None:
    replay = await Replay.load(replay_stores, HALF_HOURLY, wall_clock=lambda: WALL_CLOCK)
    candle = (await _candles(replay_stores, "micro", "GME"))[FRIDAY]

    ticks = replay.market.ticks(dt.datetime(2021, 1, 22, 23, 59, tzinfo=dt.UTC))

    gme = next(tick for tick in ticks if tick.symbol == "GME")
    assert (gme.open, gme.high, gme.low, gme.price, gme.volume) == (
        candle["open"],
        candle["high"],
        candle["low"],
        candle["close"],
        candle["volume"],
    )


async def test_the_same_settings_replay_the_same_ticks(replay_stores: Stores) -> None:
    runs = []
    for _ in range(2):
        replay = await Replay.load(replay_stores, HALF_HOURLY, wall_clock=lambda: WALL_CLOCK)
        runs.append([(await replay.step()).ticks for _ in range(STEPS_PER_DAY)])

    assert runs[0] == runs[1]


async def test_a_start_after_the_history_is_refused_with_its_span(replay_stores: Stores) -> None:
    settings = ReplaySettings(start=dt.date(2030, 1, 1))

    with pytest.raises(ReplayError, match=r"after the last day of history \(2022-11-15\)"):
        await Replay.load(replay_stores, settings)


def test_the_clock_starts_over_after_the_last_day() -> None:
    clock = MarketClock(
        start=dt.date(2022, 11, 14), end=dt.date(2022, 11, 15), step=dt.timedelta(hours=12)
    )

    wrapped = [clock.advance() for _ in range(5)]

    assert wrapped == [False, False, False, True, False]
    assert clock.loops == 1
    assert clock.now == dt.datetime(2022, 11, 14, 12, tzinfo=dt.UTC)
