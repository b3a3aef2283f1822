"""Posts as records: the JSON payload every social source emits, one `post` record per post
with its author's profile beside it (the sink splits them into `posts` and `authors`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nexus.assembly.ingest.records import Record
from subgraphs.micro.embedding import cashtags as cashtags_in

MAX_TEXT = 40_000  # characters kept of a post (a Reddit self-post can be long)


def post_record(
    source: str,
    *,
    id: str,
    author: str,
    text: str,
    created_at: dt.datetime,
    url: str,
    tags: list[str] | None = None,
    name: str = "",
    followers: int | None = None,
    following: int | None = None,
    posts: int | None = None,
) -> Record:
    """A `post` record; `tags` are the source's own cashtag entities, else read from the
    text. Times are UTC, ISO 8601 with milliseconds."""
    at = created_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
    text = text[:MAX_TEXT]
    found = list(dict.fromkeys(t.upper() for t in tags)) if tags else cashtags_in(text)
    payload: dict[str, Any] = {
        "id": id,
        "source": source,
        "author": author,
        "author_followers": followers,
        "text": text,
        "created_at": at,
        "cashtags": found,
        "url": url,
        "profile": {
            "source": source,
            "handle": author,
            "name": name or author,
            "followers": followers,
            "following": following,
            "posts": posts,
            "seen_at": at,
        },
    }
    return Record(source, "post", id, payload)
