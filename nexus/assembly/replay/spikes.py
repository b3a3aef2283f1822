"""Mention spikes: a window of posts about a symbol far above its usual count.

Posts are counted per symbol (per cashtag) in fixed windows of market time (one hour by
default, aligned to the hour). When a window closes, its count is compared with the symbol's
baseline, an exponentially weighted mean of its past window counts (half-life `half_life`
windows):

    spike  when  count >= min_mentions  and  count / max(baseline, baseline_floor) >= threshold

after `warmup` windows of history, and at most once per `cool_down` of market time per symbol.
The minimum count keeps a quiet symbol from alerting on a handful of posts (one post against a
baseline of 0.1 is not news); the floor keeps the ratio finite (a spike reports the floored
baseline, so its ratio is mentions / baseline). Every window, spikes included, then moves the
baseline.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from nexus.events import MentionSpike, SocialPost, encode, mentions_channel
from nexus.stores.bus import Bus

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(slots=True)
class _Baseline:
    level: float = 0.0  # usual posts per window
    windows: int = 0  # windows seen
    quiet_until: dt.datetime | None = None  # end of the cool-down after the last spike


class MentionSpikeDetector:
    """Counts posts per symbol and window; `close_windows` reports the windows that spiked."""

    def __init__(
        self,
        symbols: Iterable[str] = (),
        *,
        window: dt.timedelta = dt.timedelta(hours=1),
        threshold: float = 3.0,
        min_mentions: int = 10,
        half_life: float = 24.0,
        warmup: int = 24,
        cool_down: dt.timedelta = dt.timedelta(hours=6),
        baseline_floor: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if window <= dt.timedelta(0) or threshold < 1 or min_mentions < 1 or half_life <= 0:
            raise ValueError(
                "window and half_life must be positive, threshold at least 1, min_mentions "
                "at least 1"
            )
        self.window = window
        self.threshold = threshold
        self.min_mentions = min_mentions
        self.decay = 0.5 ** (1.0 / half_life)
        self.warmup = warmup
        self.cool_down = cool_down
        self.baseline_floor = baseline_floor
        self.wall_clock = wall_clock
        self.baselines = {symbol: _Baseline() for symbol in symbols}
        self.counts: Counter[str] = Counter()
        self.window_start: dt.datetime | None = None

    def _floor(self, at: dt.datetime) -> dt.datetime:
        return at - (at - EPOCH) % self.window

    def observe(self, posts: Iterable[SocialPost]) -> list[MentionSpike]:
        """Count `posts` (in time order); the spikes of the windows they closed."""
        spikes: list[MentionSpike] = []
        for post in posts:
            spikes += self.close_windows(post.created_at)
            for symbol in post.cashtags:
                self.counts[symbol] += 1
                self.baselines.setdefault(symbol, _Baseline())
        return spikes

    def close_windows(self, until: dt.datetime) -> list[MentionSpike]:
        """Close every window that ended at or before `until`; the spikes among them."""
        if self.window_start is None:
            self.window_start = self._floor(until)
            return []
        if until < self.window_start + self.window:
            return []
        end = self.window_start + self.window
        spikes = [spike for symbol in self.baselines if (spike := self._close(symbol, end))]
        self.counts.clear()
        # The windows after it saw no posts: decay every baseline in one go.
        empty = (until - end) // self.window
        if empty:
            for baseline in self.baselines.values():
                baseline.level *= self.decay**empty
                baseline.windows += empty
        self.window_start = end + empty * self.window
        return spikes

    def _close(self, symbol: str, end: dt.datetime) -> MentionSpike | None:
        baseline = self.baselines[symbol]
        count = self.counts[symbol]
        usual = max(baseline.level, self.baseline_floor)
        spike = None
        if (
            baseline.windows >= self.warmup
            and count >= self.min_mentions
            and count / usual >= self.threshold
            and (baseline.quiet_until is None or end >= baseline.quiet_until)
        ):
            baseline.quiet_until = end + self.cool_down
            spike = MentionSpike(
                symbol=symbol,
                mentions=count,
                baseline=round(usual, 4),
                ratio=round(count / usual, 4),
                window_seconds=self.window.total_seconds(),
                at=end,
                published_at=self.wall_clock(),
            )
        first = baseline.windows == 0
        baseline.level = count if first else self.decay * baseline.level + (1 - self.decay) * count
        baseline.windows += 1
        return spike

    def rewind(self) -> None:
        """Market time jumped back (the replay started over): drop the open window and the
        cool-downs, keep the baselines."""
        self.window_start = None
        self.counts.clear()
        for baseline in self.baselines.values():
            baseline.quiet_until = None

    async def publish(self, bus: Bus, spikes: Sequence[MentionSpike]) -> None:
        for spike in spikes:
            await bus.publish(mentions_channel(spike.symbol), encode(spike))
