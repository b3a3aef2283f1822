"""One market clock for queries and subscriptions.

In the embedded default the replay feed drives market time (an accelerated clock over the
shipped history) and publishes it, retained, on `clock.market` with every step; a query reads
the same value the step's ticks carry, so "now" in a query and in a subscription agree. With
no replay (production, live feeds) market time is the wall clock.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Literal

from nexus.events import CLOCK_CHANNEL, EventError, MarketClockTick, decode
from nexus.stores.bus import Bus


@dataclass(frozen=True, slots=True)
class MarketTime:
    now: dt.datetime
    source: Literal["replay", "wall_clock"]
    speed: float  # market seconds per real second
    published_at: dt.datetime


async def market_time(bus: Bus) -> MarketTime:
    """The replay's time when a replay publishes one, else the wall clock (UTC)."""
    (last,) = await bus.last([CLOCK_CHANNEL])
    if last is not None:
        try:
            tick = decode(last)
        except EventError:
            tick = None
        if isinstance(tick, MarketClockTick):
            published = dt.datetime.fromtimestamp(tick.published_at, dt.UTC)
            return MarketTime(tick.at, "replay", tick.speed, published)
    now = dt.datetime.fromtimestamp(time.time(), dt.UTC)
    return MarketTime(now, "wall_clock", 1.0, now)
