"""The market replay: daily history as a live stream of ticks on an accelerated clock.

Every `tick_seconds` of real time the market clock moves `speed * tick_seconds` market seconds
and every symbol that traded that market day gets one MarketTick, priced on its intraday path
(`bridge.py`) at that market minute, with the day's open, high and low so far, the previous
close and the volume so far. A symbol with no candle on the day (a stock at the weekend, any
symbol before its history starts or after it ends) publishes nothing: its retained last tick
keeps its last price, as a closed market would.

Paths cover the whole UTC day for every symbol (a stock's path is not squeezed into exchange
hours). A start date before the history begins at its first day. At the end of the history
(the day after the last candle of any symbol) the clock starts over from the start date;
subscribers see market time jump back.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nexus.assembly.replay.bridge import day_seed, intraday_path, intraday_volume
from nexus.assembly.replay.history import DailyHistory
from nexus.events import MarketTick, encode, market_channel
from nexus.stores.bus import Bus

DAY = dt.timedelta(days=1)


class ReplayError(ValueError):
    """The replay cannot run on this history with these settings."""


class MarketClock:
    """Market time from `start` (midnight UTC), `step` per tick, back to `start` after `end`."""

    def __init__(self, *, start: dt.date, end: dt.date, step: dt.timedelta) -> None:
        if step <= dt.timedelta(0):
            raise ReplayError(f"the market clock must move forward, not by {step}")
        self.start = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        self.end = dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC) + DAY
        self.step = step
        self.now = self.start
        self.loops = 0  # how many times the history has been replayed to its end

    def advance(self) -> bool:
        """Move one step; True when that passed the end and the clock started over."""
        self.now += self.step
        if self.now < self.end:
            return False
        self.now = self.start
        self.loops += 1
        return True


@dataclass(frozen=True, slots=True, eq=False)
class MarketDay:
    """One symbol's replayed day: minute-by-minute price, high, low and volume so far."""

    day: int  # date.toordinal()
    open: float
    previous_close: float
    prices: np.ndarray  # float64 [MINUTES]
    highs: np.ndarray
    lows: np.ndarray
    volumes: np.ndarray

    @classmethod
    def of(cls, history: DailyHistory, row: int) -> MarketDay:
        prices = intraday_path(
            open=float(history.open[row]),
            high=float(history.high[row]),
            low=float(history.low[row]),
            close=float(history.close[row]),
            seed=day_seed(history.symbol, int(history.days[row])),
        )
        return cls(
            day=int(history.days[row]),
            open=float(history.open[row]),
            previous_close=history.previous_close(row),
            prices=prices,
            highs=np.maximum.accumulate(prices),
            lows=np.minimum.accumulate(prices),
            volumes=intraday_volume(prices, float(history.volume[row])),
        )


class MarketReplay:
    """Ticks of every symbol of `histories` on `clock`'s market time, published to `bus`."""

    def __init__(
        self,
        histories: Sequence[DailyHistory],
        bus: Bus,
        *,
        start: dt.date,
        speed: float,
        tick_seconds: float,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not histories:
            raise ReplayError(
                "no daily candles to replay: load the demo data (`nexus load-demo`) first"
            )
        self.histories = {history.symbol: history for history in histories}
        first = min(history.first_day for history in histories)
        last = max(history.last_day for history in histories)
        if start > last:
            raise ReplayError(
                f"NEXUS_REPLAY_START {start} is after the last day of history ({last}): "
                f"pick a day from {first} to {last}"
            )
        self.clock = MarketClock(
            start=max(start, first), end=last, step=dt.timedelta(seconds=speed * tick_seconds)
        )
        self.bus = bus
        self.wall_clock = wall_clock
        self._days: dict[str, MarketDay] = {}

    def ticks(self, at: dt.datetime) -> list[MarketTick]:
        """One tick per symbol that trades on `at`'s day, priced at `at`'s minute."""
        day = at.date().toordinal()
        minute = at.hour * 60 + at.minute
        published_at = self.wall_clock()
        ticks = []
        for symbol, history in self.histories.items():
            market_day = self._market_day(history, day)
            if market_day is None:
                continue
            ticks.append(
                MarketTick(
                    symbol=symbol,
                    asset_class=history.asset_class,
                    price=float(market_day.prices[minute]),
                    open=market_day.open,
                    high=float(market_day.highs[minute]),
                    low=float(market_day.lows[minute]),
                    previous_close=market_day.previous_close,
                    volume=float(market_day.volumes[minute]),
                    at=at,
                    published_at=published_at,
                )
            )
        return ticks

    def _market_day(self, history: DailyHistory, day: int) -> MarketDay | None:
        cached = self._days.get(history.symbol)
        if cached is not None and cached.day == day:
            return cached
        row = history.index(day)
        if row is None:
            return None
        self._days[history.symbol] = market_day = MarketDay.of(history, row)
        return market_day

    async def publish(self, ticks: Sequence[MarketTick]) -> None:
        """Each tick on its symbol's channel, retained as the channel's last event."""
        for tick in ticks:
            await self.bus.publish(market_channel(tick.symbol), encode(tick), retain=True)

    async def step(self) -> list[MarketTick]:
        """Publish the ticks of the clock's time, then move the clock on; the ticks."""
        ticks = self.ticks(self.clock.now)
        self.clock.advance()
        await self.publish(ticks)
        return ticks
