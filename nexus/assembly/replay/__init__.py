"""The replay feed: the shipped daily history as a live stream on an accelerated clock.

The embedded default has no live market or social source, so this feed makes one from the
demo data (DESIGN.md, "Real-time"): every `tick_seconds` of real time the market clock moves
`speed * tick_seconds` market seconds, and one step publishes

1. a MarketTick per trading symbol on `market.{SYMBOL}` (retained), priced on an intraday
   Brownian bridge between the daily candles (`feed.py`, `bridge.py`);
2. the synthetic SocialPosts of the market interval since the last step on `social.posts`,
   at the historical mention rate, boosted by price moves (`social.py`);
3. a MentionSpike on `alert.mentions.{SYMBOL}` for each symbol whose posts in a market hour
   ran far above its usual count (`spikes.py`);
4. the market clock's time on `clock.market` (retained), which queries read as "now"
   (`nexus/market_clock.py`).

`nexus serve` and `nexus subgraph crypto|micro` start it with the embedded analytics store
(NEXUS_REPLAY, NEXUS_REPLAY_SPEED, NEXUS_REPLAY_TICK_SECONDS, NEXUS_REPLAY_START; see
nexus/config.py); `nexus replay` runs it alone against a Redis bus (`command.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from nexus.assembly.replay.feed import MarketReplay, ReplayError
from nexus.assembly.replay.history import load_daily_mentions, load_histories
from nexus.assembly.replay.social import SocialReplay
from nexus.assembly.replay.spikes import MentionSpikeDetector
from nexus.config import REPLAY_SPEED, REPLAY_START, REPLAY_TICK_SECONDS, Settings
from nexus.errors import StoreUnavailable
from nexus.events import (
    CLOCK_CHANNEL,
    MarketClockTick,
    MarketTick,
    MentionSpike,
    SocialPost,
    encode,
)
from nexus.stores import Stores
from nexus.stores.bus import Bus

__all__ = ["Replay", "ReplayError", "ReplaySettings", "ReplayStep", "start_replay"]

log = logging.getLogger("nexus.replay")


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    speed: float = REPLAY_SPEED  # market seconds per real second
    tick_seconds: float = REPLAY_TICK_SECONDS  # real seconds between steps
    start: dt.date = REPLAY_START  # first market day, and where the replay starts over

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplaySettings:
        return cls(settings.replay_speed, settings.replay_tick_seconds, settings.replay_start)


@dataclass(frozen=True, slots=True)
class ReplayStep:
    """What one step published."""

    at: dt.datetime  # market time of the ticks
    ticks: list[MarketTick]
    posts: list[SocialPost]
    spikes: list[MentionSpike]


class Replay:
    """The market replay, its posts and their spike detector, stepped together."""

    def __init__(
        self,
        bus: Bus,
        market: MarketReplay,
        social: SocialReplay,
        detector: MentionSpikeDetector,
        settings: ReplaySettings,
    ) -> None:
        self.bus = bus
        self.market = market
        self.social = social
        self.detector = detector
        self.settings = settings
        self._previous: dt.datetime | None = None  # market time of the last step
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def load(
        cls,
        stores: Stores,
        settings: ReplaySettings,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> Replay:
        """A replay of the candles and mentions in `stores`' analytics store, not yet started."""
        if stores.analytics is None:
            raise ReplayError("the replay reads the analytics store; this process has none")
        bus = stores.require_bus()
        histories = await load_histories(stores.analytics)
        mentions = await load_daily_mentions(stores.analytics)
        market = MarketReplay(
            histories,
            bus,
            start=settings.start,
            speed=settings.speed,
            tick_seconds=settings.tick_seconds,
            wall_clock=wall_clock,
        )
        social = SocialReplay(histories, mentions, bus, wall_clock=wall_clock)
        detector = MentionSpikeDetector(market.histories, wall_clock=wall_clock)
        return cls(bus, market, social, detector, settings)

    async def step(self) -> ReplayStep:
        """Publish the ticks of the market clock's time, the posts since the last step and the
        spikes they make, then move the clock on. Everything is decided before anything is
        published, so a bus failure loses this step's events but never repeats them."""
        at = self.market.clock.now
        ticks = self.market.ticks(at)
        posts = []
        if self._previous is not None:
            posts = self.social.posts_between(self._previous, at, ticks)
            # Reading the posts' sentiment is CPU work for the model: off the event loop.
            posts = await asyncio.to_thread(self.social.scored, posts)
        spikes = self.detector.observe(posts) + self.detector.close_windows(at)
        self._previous = at
        if self.market.clock.advance():
            log.info("replay reached the end of the history; starting over")
            self._previous = None
            self.social.forget_prices()
            self.detector.rewind()
        await self.market.publish(ticks)
        # The market clock queries read ("now"), retained: the time these ticks carry.
        clock = MarketClockTick(at, self.settings.speed, self.market.wall_clock())
        await self.bus.publish(CLOCK_CHANNEL, encode(clock), retain=True)
        await self.social.publish(posts)
        await self.detector.publish(self.bus, spikes)
        return ReplayStep(at, ticks, posts, spikes)

    def start(self) -> None:
        """Step every `tick_seconds` in a background task until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="replay-feed")
            log.info(
                "replay feed started at %s, %gx (a market day every %.0f s)",
                self.market.clock.now.date(),
                self.settings.speed,
                86_400 / self.settings.speed,
                extra={
                    "speed": self.settings.speed,
                    "start": self.market.clock.now.date().isoformat(),
                    "tick_seconds": self.settings.tick_seconds,
                    "symbols": sorted(self.market.histories),
                },
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        failing = False
        while True:
            try:
                await self.step()
            except StoreUnavailable:
                if not failing:  # once per outage, not once per tick
                    log.warning("replay could not publish (bus unavailable); carrying on")
                failing = True
            except Exception:
                log.exception("replay feed stopped by an unexpected error")
                return
            else:
                if failing:
                    log.info("replay publishing again")
                failing = False
            due += self.settings.tick_seconds
            # Behind schedule (a slow publish, a busy loop): skip ahead rather than burst.
            due = max(due, loop.time())
            await asyncio.sleep(due - loop.time())


async def start_replay(stores: Stores, settings: ReplaySettings) -> Replay:
    """Load the history from `stores` and start the replay in the background; ReplayError when
    there is nothing to replay or the start date is past the history."""
    replay = await Replay.load(stores, settings)
    replay.start()
    return replay
