"""Influencers of a stock: who posts about it, in what tone, and what the price did next.

An author's impact on a symbol is an event study [1] with the constant-mean-return model:
each distinct day d the author posted about the symbol is an event, its abnormal return

    AR_d = r_{t(d)} - mean(r over the period's trading days),

r_t the close-to-close return of trading day t and t(d) the first trading day after d (the
price move *after* the post, not the one it may be reacting to). The impact score is the
mean of the author's AR_d, its standard error s / sqrt(n) (s the sample standard deviation of
the AR_d, n >= 2 events). Authors are ranked by |impact / standard error| (how clearly the
price moved after their posts), those with fewer than two events last, then by post count.

References:
    [1] MacKinlay, A. C. (1997). Event Studies in Economics and Finance. Journal of Economic
        Literature 35(1), 13-39.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from subgraphs.micro.records import Period

__all__ = ["AuthorActivity", "InfluencerRecord", "Influencers", "rank_influencers"]


@dataclass(frozen=True, slots=True)
class Influencers:
    """The key of `influencers(from, to, limit)` for one symbol."""

    period: Period
    limit: int


@dataclass(frozen=True, slots=True)
class AuthorActivity:
    """An author's posts about one symbol in a period."""

    author: str
    followers: int | None
    posts: int
    mean_sentiment: float | None
    days: tuple[dt.date, ...]  # distinct days (UTC) with a post


@dataclass(frozen=True, slots=True)
class InfluencerRecord:
    author: str
    followers: int | None
    posts: int
    mean_sentiment: float | None
    impact: float | None  # mean abnormal return after the author's post days, a fraction
    impact_standard_error: float | None
    events: int  # post days with a trading day after them in the candles


def _abnormal_returns(
    dates: Sequence[dt.date], closes: Sequence[float], start: dt.date, end: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Trading days after the first, and their returns less the mean return in [start, end]."""
    ordinals = np.array([date.toordinal() for date in dates], dtype=np.int64)
    prices = np.asarray(closes, dtype=np.float64)
    if len(prices) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    returns = prices[1:] / prices[:-1] - 1.0
    days = ordinals[1:]
    inside = (days >= start.toordinal()) & (days <= end.toordinal())
    mean = float(returns[inside].mean()) if inside.any() else float(returns.mean())
    return days, returns - mean


def rank_influencers(
    activity: Sequence[AuthorActivity],
    dates: Sequence[dt.date],
    closes: Sequence[float],
    period: Period,
    limit: int,
) -> list[InfluencerRecord]:
    """Each author's impact on the symbol whose daily closes are `closes` (on `dates`, oldest
    first, running past the period's end so its last posts have a next day), ranked."""
    days, abnormal = _abnormal_returns(dates, closes, period.start, period.end)
    ranked: list[tuple[tuple[float, int], InfluencerRecord]] = []
    for author in activity:
        post_days = np.array([day.toordinal() for day in author.days], dtype=np.int64)
        # The first trading day strictly after each post day.
        after = np.searchsorted(days, post_days, side="right")
        events = abnormal[after[after < len(days)]]
        impact = float(events.mean()) if len(events) else None
        error = float(events.std(ddof=1) / math.sqrt(len(events))) if len(events) > 1 else None
        clarity = abs(impact) / error if impact is not None and error else -1.0
        record = InfluencerRecord(
            author=author.author,
            followers=author.followers,
            posts=author.posts,
            mean_sentiment=author.mean_sentiment,
            impact=impact,
            impact_standard_error=error,
            events=len(events),
        )
        ranked.append(((clarity, author.posts), record))
    ranked.sort(key=lambda item: (-item[0][0], -item[0][1], item[1].author))
    return [record for _, record in ranked[:limit]]
