"""Replayed post volume: synthetic posts at the historical daily rate, quicker when prices move.

For each interval of market time and each symbol, the number of posts is Poisson with mean

    posts_per_day(symbol, day) * (active seconds in the interval / active seconds of a day)
        * min(1 + MOVE_GAIN * |ln(p_now / p_before)| / sqrt(interval hours), MAX_BOOST)

where posts_per_day is the symbol's mentions that day in micro's store (`micro.mentions`), or,
for a symbol nobody posted about there (the crypto tokens), the demo generator's model applied
to its own candles (`daily_post_counts`); the active hours are the generator's posting hours
for stocks (12:00-24:00 UTC) and the whole day for tokens; and the boost grows with the
price move over the interval, scaled to an hourly move. Posts fall uniformly in the active part
of the interval; their wording (from the day's return so far) and author come from the
generator's `draft_post`, their sentiment from the sentiment model reading the text
(`scored`, the same model that scored the stored posts).

Replayed posts only travel on the bus (`social.posts`, `synthetic`, source "synthetic"): the
store already holds the history they follow, and writing them would count it twice. Each
interval draws from its own seeded stream, so the same interval always gives the same posts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from nexus.assembly.replay.history import AssetClass, DailyHistory
from nexus.events import SOCIAL_CHANNEL, MarketTick, SocialPost, encode
from nexus.stores.bus import Bus
from subgraphs.micro.embedding import analyse, cashtags
from subgraphs.micro.generator import POSTING_HOURS, daily_post_counts, draft_post

SEED = 20210129
MOVE_GAIN = 10.0  # boost per unit of hourly absolute log move (a 5% hourly move: x1.5)
MAX_BOOST = 3.0
ACTIVE_HOURS: dict[AssetClass, tuple[int, int]] = {"stock": POSTING_HOURS, "crypto": (0, 24)}

Segment = tuple[dt.datetime, float, float]  # (start, seconds, expected posts)


class SocialReplay:
    """Synthetic posts about the symbols of `histories`, interval by interval."""

    def __init__(
        self,
        histories: Sequence[DailyHistory],
        daily_mentions: Mapping[str, Mapping[int, int]],
        bus: Bus,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.asset_classes = {history.symbol: history.asset_class for history in histories}
        self.posts_per_day: dict[str, Mapping[int, float]] = {}
        for history in histories:
            stored = daily_mentions.get(history.symbol)
            if stored:
                self.posts_per_day[history.symbol] = stored
            else:
                counts = daily_post_counts(history.close, history.volume)
                self.posts_per_day[history.symbol] = dict(
                    zip(history.days.tolist(), counts.tolist(), strict=True)
                )
        self.bus = bus
        self.wall_clock = wall_clock
        self._last_prices: dict[str, float] = {}

    def forget_prices(self) -> None:
        """After the clock jumps (it started over), the next move is no move."""
        self._last_prices.clear()

    def posts_between(
        self, start: dt.datetime, end: dt.datetime, ticks: Sequence[MarketTick]
    ) -> list[SocialPost]:
        """The posts of market interval [start, end), given the ticks at `end`, by time."""
        now = {tick.symbol: tick for tick in ticks}
        trading = sorted(now)
        hours = (end - start).total_seconds() / 3600
        posts: list[SocialPost] = []
        for symbol in sorted(self.asset_classes):
            tick = now.get(symbol)
            boost = self._boost(symbol, tick, hours)
            daily_return = tick.price / tick.previous_close - 1.0 if tick else 0.0
            others = [other for other in trading if other != symbol]
            rng = np.random.default_rng((SEED, zlib.crc32(symbol.encode()), int(start.timestamp())))
            number = 0
            for segment_start, seconds, expected in self._segments(symbol, start, end):
                offsets = np.sort(rng.uniform(0.0, seconds, rng.poisson(expected * boost)))
                for offset in offsets:
                    draft = draft_post(rng, symbol, daily_return, others)
                    posts.append(
                        SocialPost(
                            id=f"replay:{symbol}:{int(start.timestamp())}:{number}",
                            source="synthetic",
                            author=draft.author,
                            author_followers=draft.author_followers,
                            text=draft.text,
                            cashtags=tuple(cashtags(draft.text)),
                            sentiment=None,  # the model's, in `scored`
                            synthetic=True,
                            created_at=segment_start
                            + dt.timedelta(milliseconds=int(offset * 1000)),
                            published_at=self.wall_clock(),
                        )
                    )
                    number += 1
        self._last_prices.update((symbol, tick.price) for symbol, tick in now.items())
        posts.sort(key=lambda post: (post.created_at, post.id))
        return posts

    @staticmethod
    def scored(posts: Sequence[SocialPost]) -> list[SocialPost]:
        """`posts` with the sentiment model's score, one batch. Blocking: run it in a thread."""
        if not posts:
            return []
        scores = analyse([post.text for post in posts]).scores
        return [
            dataclasses.replace(post, sentiment=round(float(score), 4))
            for post, score in zip(posts, scores, strict=True)
        ]

    def _boost(self, symbol: str, tick: MarketTick | None, hours: float) -> float:
        before = self._last_prices.get(symbol)
        if tick is None or before is None or hours <= 0:
            return 1.0
        hourly_move = abs(math.log(tick.price / before)) / math.sqrt(hours)
        return min(1.0 + MOVE_GAIN * hourly_move, MAX_BOOST)

    def _segments(self, symbol: str, start: dt.datetime, end: dt.datetime) -> Iterator[Segment]:
        """The active parts of [start, end), day by day, with the posts expected in each."""
        first, last = ACTIVE_HOURS[self.asset_classes[symbol]]
        active_seconds = (last - first) * 3600.0
        per_day = self.posts_per_day[symbol]
        midnight = dt.datetime.combine(start.date(), dt.time(), tzinfo=dt.UTC)
        while midnight < end:
            low = max(start, midnight + dt.timedelta(hours=first))
            high = min(end, midnight + dt.timedelta(hours=last))
            posts = per_day.get(midnight.date().toordinal(), 0)
            if high > low and posts > 0:
                seconds = (high - low).total_seconds()
                yield low, seconds, posts * seconds / active_seconds
            midnight += dt.timedelta(days=1)

    async def publish(self, posts: Sequence[SocialPost]) -> None:
        for post in posts:
            await self.bus.publish(SOCIAL_CHANNEL, encode(post))
