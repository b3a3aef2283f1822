"""Reddit listings: the newest posts of some subreddits (`/r/NAME/new.json`).

A listing is `{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {...}}],
"after": "t3_...", "before": null}}`; a link (t3) has `id`, `name`, `title`, `selftext`,
`author`, `created_utc` (epoch seconds), `permalink`; a comment (t1) has `body` instead of a
title. Pages run newest to oldest, `after` naming the last item of a page.

A run walks back from the newest post until it reaches what the last run stored (the cursor
keeps, per subreddit, the newest post's time) or `--since`, at most MAX_PAGES pages; the cursor
moves with the last page. Posts without a `$TICKER` are skipped: the store is about cashtags.

Reddit asks every client for a descriptive User-Agent (NEXUS_REDDIT_USER_AGENT) and answers
429 past its limit, with `x-ratelimit-reset` (seconds until the window resets).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from nexus.assembly.ingest.errors import BadPayload
from nexus.assembly.ingest.http import SourceHttp
from nexus.assembly.ingest.micro.posts import post_record
from nexus.assembly.ingest.records import Batch, Cursor, Record, Window
from nexus.assembly.ingest.source import SourceConfig

NAME = "reddit"
USER_AGENT_ENV = "NEXUS_REDDIT_USER_AGENT"
SUBREDDITS_ENV = "NEXUS_REDDIT_SUBREDDITS"
DEFAULT_USER_AGENT = "python:nexus-alpha-ingest:0.1"
DEFAULT_SUBREDDITS = ("wallstreetbets", "stocks")
MAX_PAGES = 10  # of 100 posts per subreddit and run


def user_agent_headers(env: Mapping[str, str]) -> dict[str, str]:
    return {"User-Agent": env.get(USER_AGENT_ENV, "").strip() or DEFAULT_USER_AGENT}


def parse_listing(document: Any) -> tuple[list[Record], list[float], str | None]:
    """(post records with a cashtag, every item's created_utc, `after`) of a listing."""
    if document.get("kind") != "Listing":
        raise ValueError(f"not a Listing: kind={document.get('kind')!r}")
    listing = document["data"]
    records, times = [], []
    for child in listing["children"]:
        item = child["data"]
        created = float(item["created_utc"])
        times.append(created)
        if child["kind"] == "t3":
            text = "\n\n".join(part for part in (item.get("title"), item.get("selftext")) if part)
        elif child["kind"] == "t1":
            text = str(item["body"])
        else:
            continue
        record = post_record(
            NAME,
            id=f"reddit:{item['id']}",
            author=str(item.get("author") or "[deleted]"),
            text=text,
            created_at=dt.datetime.fromtimestamp(created, dt.UTC),
            url="https://www.reddit.com" + str(item.get("permalink", "")),
        )
        if record.payload["cashtags"]:
            records.append(record)
    after = listing.get("after")
    return records, times, str(after) if after else None


class RedditSource:
    name = NAME

    def __init__(self, config: SourceConfig) -> None:
        listed = config.env.get(SUBREDDITS_ENV, "")
        self.subreddits = tuple(s.strip() for s in listed.split(",") if s.strip()) or (
            DEFAULT_SUBREDDITS
        )

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        state = {name: dict(value) for name, value in cursor.items() if isinstance(value, dict)}
        for subreddit in window.only or self.subreddits:
            seen = state.setdefault(subreddit, {})
            stop = (
                window.since.timestamp() if window.since else float(seen.get("newest", 0.0))
            )
            until = window.until.timestamp() if window.until else float("inf")
            newest = float(seen.get("newest", 0.0))
            params: dict[str, Any] = {"limit": 100, "raw_json": 1}
            path = f"r/{subreddit}/new.json"
            for _ in range(MAX_PAGES):
                document = await http.get_json(path, params)
                try:
                    records, times, after = parse_listing(document)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    raise BadPayload(
                        f"listing: unexpected shape ({error!r})",
                        request=http.describe(path, params),
                        excerpt=json.dumps(document)[:500],
                    ) from None
                kept = [r for r in records if stop <= _epoch(r) <= until]
                newest = max([newest, *times])
                done = not after or not times or min(times) < stop
                if done:
                    seen["newest"] = newest
                    yield Batch(kept, _copy(state))
                    break
                yield Batch(kept, _copy(state, subreddit, cursor))
                params["after"] = after
            else:
                seen["newest"] = newest
                yield Batch([], _copy(state))


def _epoch(record: Record) -> float:
    at = dt.datetime.fromisoformat(record.payload["created_at"]).replace(tzinfo=dt.UTC)
    return at.timestamp()


def _copy(
    state: Mapping[str, Any], walking: str | None = None, before: Cursor | None = None
) -> Cursor:
    """The cursor to checkpoint: while `walking` a subreddit's pages, its entry stays as it
    was before the run (`before`), so a run cut short walks them again."""
    copied = {name: dict(value) for name, value in state.items()}
    if walking is not None:
        previous = (before or {}).get(walking)
        if isinstance(previous, dict):
            copied[walking] = dict(previous)
        else:
            copied.pop(walking, None)
    return copied
