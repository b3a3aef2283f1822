"""Synthetic social posts driven by real price moves, and the real WSB comments as posts.

The demo has real daily candles but no licensed social feed, so it generates one: every post
it makes is marked `synthetic`. Each trading day of each stock gets

    posts = BASE_RATE + RETURN_WEIGHT * |r| + SURPRISE_WEIGHT * max(0, v / mean_20(v) - 1)

posts (capped at `MAX_DAILY_POSTS`), where r is the close-to-close return and v / mean_20(v)
the day's volume over its trailing 20-day mean: quiet days carry a few posts, and the
January 2021 short squeeze brings the meme-stock spike. A post's mood is
tanh(SENTIMENT_GAIN * r) plus Gaussian noise, its wording bullish, bearish or neutral by that
mood's sign, its author one of a fixed set of made-up influencer handles. The mood only picks
the wording: the sentiment a post is stored with is the sentiment model's reading of its text
(`embedding.analyse`, at load), so generated posts carry none. The generator is
seeded: the same candles always give the same posts. `draft_post` (wording, mood, author)
is shared with the replay feed's live posts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from subgraphs.micro.embedding import cashtags
from subgraphs.micro.records import PostRecord

SEED = 20210127
BASE_RATE = 3.0
RETURN_WEIGHT = 120.0
SURPRISE_WEIGHT = 8.0
MAX_DAILY_POSTS = 400
SENTIMENT_GAIN = 8.0
SENTIMENT_NOISE = 0.35
VOLUME_WINDOW = 20
POSTING_HOURS = (12, 24)  # UTC: US pre-market to after-hours, when stocks are posted about

# (handle, followers): made-up accounts; any likeness to a real handle is accidental.
INFLUENCERS: tuple[tuple[str, int], ...] = (
    ("synthetic_tendieman", 412_000),
    ("synthetic_diamondhands", 268_500),
    ("synthetic_squeezewatch", 131_200),
    ("synthetic_valuedeepdive", 88_400),
    ("synthetic_optionsflow", 57_900),
    ("synthetic_bagholder", 12_300),
    ("synthetic_retailquant", 6_150),
    ("synthetic_lurker", 830),
)
# An author is drawn with probability proportional to log(followers).
_AUTHOR_WEIGHTS = np.array([math.log(followers) for _, followers in INFLUENCERS])
AUTHOR_PROBABILITIES = _AUTHOR_WEIGHTS / _AUTHOR_WEIGHTS.sum()

_BULLISH = (
    "{tag} to the moon, diamond hands holding strong",
    "Loading more {tag} calls, this squeeze is not over",
    "{tag} volume is insane today, shorts are trapped",
    "Bought the dip on {tag}, apes together strong",
    "{tag} breaking out, rocket fuel in the tank",
    "Still holding {tag}, tendies incoming",
)
_BEARISH = (
    "{tag} is dumping hard, paper hands everywhere",
    "Sold my {tag} at a loss, this bubble is popping",
    "{tag} shorts winning today, red candles all day",
    "Bagholding {tag} again, should have taken profits",
    "{tag} crashing after the hype, stay careful",
    "Puts on {tag} printing, the squeeze is done",
)
_NEUTRAL = (
    "Watching {tag} closely, waiting for a clear setup",
    "Anyone have good due diligence on {tag} earnings",
    "{tag} trading sideways, nothing new today",
    "What is the float on {tag} right now",
    "Quiet session for {tag}, volume about average",
)


@dataclass(frozen=True, slots=True)
class PostDraft:
    """What a synthetic post says and who says it."""

    text: str
    mood: float  # in [-1, 1]: picks the wording; the stored sentiment is the model's
    author: str
    author_followers: int


def draft_post(
    rng: np.random.Generator, symbol: str, daily_return: float, others: Sequence[str]
) -> PostDraft:
    """One post about `symbol` on a day that has moved `daily_return` so far; it may name one of
    `others` too. Draws from `rng` in a fixed order, so a seeded stream gives the same posts."""
    mood = float(
        np.clip(
            math.tanh(SENTIMENT_GAIN * daily_return) + rng.normal(0.0, SENTIMENT_NOISE), -1.0, 1.0
        )
    )
    templates = _BULLISH if mood > 0.15 else _BEARISH if mood < -0.15 else _NEUTRAL
    text = templates[int(rng.integers(len(templates)))].format(tag="$" + symbol)
    if others and rng.random() < 0.1:
        text += f" (also watching ${others[int(rng.integers(len(others)))]})"
    handle, followers = INFLUENCERS[int(rng.choice(len(INFLUENCERS), p=AUTHOR_PROBABILITIES))]
    return PostDraft(text, mood, handle, followers)


@dataclass(frozen=True, slots=True)
class DailyBar:
    symbol: str
    date: dt.date
    close: float
    volume: float


def daily_post_counts(closes: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Posts per trading day for one stock (the first day, with no return, gets the base rate)."""
    returns = np.zeros_like(closes)
    returns[1:] = closes[1:] / closes[:-1] - 1.0
    trailing = np.array(
        [
            volumes[max(0, day - VOLUME_WINDOW) : day].mean() if day else volumes[0]
            for day in range(len(volumes))
        ]
    )
    surprise = np.maximum(0.0, volumes / np.where(trailing > 0, trailing, 1.0) - 1.0)
    counts = BASE_RATE + RETURN_WEIGHT * np.abs(returns) + SURPRISE_WEIGHT * surprise
    return np.minimum(np.rint(counts), MAX_DAILY_POSTS).astype(np.int64)


def synthetic_posts(bars: Sequence[DailyBar], stream: int = 0) -> list[PostRecord]:
    """Posts for every symbol's bars (bars of one symbol in date order), deterministically.

    `stream` offsets the seeds: the tokens' posts use another family of streams than the
    stocks', so generating one never changes the other's posts.
    """
    by_symbol: dict[str, list[DailyBar]] = {}
    for bar in bars:
        by_symbol.setdefault(bar.symbol, []).append(bar)
    trading: dict[dt.date, list[str]] = {}
    for bar in sorted(bars, key=lambda bar: bar.symbol):
        trading.setdefault(bar.date, []).append(bar.symbol)
    posts: list[PostRecord] = []
    for index, symbol in enumerate(sorted(by_symbol)):
        # One stream per symbol: adding a stock does not change another's posts.
        rng = np.random.default_rng([SEED, stream, index] if stream else [SEED, index])
        series = by_symbol[symbol]
        closes = np.array([bar.close for bar in series])
        counts = daily_post_counts(closes, np.array([bar.volume for bar in series]))
        for day, (bar, count) in enumerate(zip(series, counts, strict=True)):
            daily_return = closes[day] / closes[day - 1] - 1.0 if day else 0.0
            # A post may name a second ticker, one that traded that day too.
            others = [other for other in trading[bar.date] if other != symbol]
            posts.extend(_posts_of_day(rng, bar, int(count), daily_return, others))
    return posts


def _posts_of_day(
    rng: np.random.Generator, bar: DailyBar, count: int, daily_return: float, others: list[str]
) -> Iterable[PostRecord]:
    first, last = POSTING_HOURS
    seconds = np.sort(rng.integers(first * 3600, last * 3600, size=count))
    midnight = dt.datetime.combine(bar.date, dt.time(), tzinfo=dt.UTC)
    for number, second in enumerate(seconds):
        draft = draft_post(rng, bar.symbol, daily_return, others)
        yield PostRecord(
            id=f"synthetic:{bar.symbol}:{bar.date.isoformat()}:{number:03d}",
            source="synthetic",
            author=draft.author,
            author_followers=draft.author_followers,
            text=draft.text,
            created_at=midnight + dt.timedelta(seconds=int(second)),
            cashtags=tuple(cashtags(draft.text)),
            sentiment=None,
            synthetic=True,
        )


def reddit_posts(comments: Iterable[dict[str, str]]) -> list[PostRecord]:
    """Real r/wallstreetbets comments (id, created, score, body) as posts; authors not shipped."""
    return [
        PostRecord(
            id=f"reddit:{comment['id']}",
            source="reddit",
            author="r/wallstreetbets",
            author_followers=None,
            text=comment["body"],
            created_at=dt.datetime.fromisoformat(comment["created"]).replace(tzinfo=dt.UTC),
            cashtags=tuple(cashtags(comment["body"])),
            sentiment=None,
            synthetic=False,
        )
        for comment in comments
    ]
