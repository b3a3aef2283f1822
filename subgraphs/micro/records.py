"""What the micro store holds, as plain records, and the keys of its batched reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nexus.errors import BadUserInput

MAX_LIMIT = 500
EARLIEST = dt.date(1970, 1, 1)
LATEST = dt.date(2149, 6, 1)  # the last day a ClickHouse Date can hold


@dataclass(frozen=True, slots=True)
class StockRecord:
    symbol: str
    name: str


@dataclass(frozen=True, slots=True)
class PostRecord:
    id: str
    source: str
    author: str
    author_followers: int | None
    text: str
    created_at: dt.datetime
    cashtags: tuple[str, ...]
    sentiment: float | None
    synthetic: bool
    # (negative, neutral, positive) from the sentiment model; empty where none was scored.
    sentiment_probabilities: tuple[float, ...] = ()
    url: str = ""  # the post on its source (X, Reddit); empty for the demo's posts


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """An account as a source showed it when it was `seen_at` (its post's time)."""

    source: str
    handle: str
    name: str
    followers: int | None
    following: int | None
    posts: int | None
    seen_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PostsPageKey:
    """The key of a page of posts tagging `period.symbol`, newest first, from `source` only
    when given; `after_key` is the cursor's (created_at 'YYYY-MM-DD HH:MM:SS.fff', post id)."""

    period: Period
    source: str | None
    first: int
    after: str | None
    after_key: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class PostStats:
    """How many posts mention a ticker in a period, and their mean sentiment."""

    posts: int
    mean_sentiment: float | None


POST_COLUMNS = (
    "id",
    "source",
    "author",
    "author_followers",
    "text",
    "created_at",
    "cashtags",
    "sentiment",
    "synthetic",
    "sentiment_probabilities",
)


@dataclass(frozen=True, slots=True)
class DailyMentionsRecord:
    date: dt.date
    posts: int
    mean_sentiment: float | None


@dataclass(frozen=True, slots=True)
class Period:
    """The key of a per-ticker read over an inclusive range of days (UTC)."""

    symbol: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class LatestPosts:
    """The key of `posts(from, to, limit)` for one ticker: its newest `limit` posts."""

    period: Period
    limit: int


@dataclass(frozen=True, slots=True)
class SimilarTo:
    """The key of `similar(limit)` for one post: its text is what gets embedded."""

    post_id: str
    text: str
    limit: int


def period(symbol: str, start: dt.date | None, end: dt.date | None) -> Period:
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    return Period(symbol, start or EARLIEST, end or LATEST)


def checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadUserInput(
            f"`limit` must be between 1 and {MAX_LIMIT}, not {limit}; page with `from`/`to`.",
            argument="limit",
        )
    return limit
