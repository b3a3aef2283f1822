"""X API v2: recent search (paged, `since_id` cursor) and the filtered stream.

Recent search, `GET /2/tweets/search/recent` (https://docs.x.com/x-api/posts/search-recent-posts):
`data[]` posts (`id`, `text`, `author_id`, `created_at`, `entities.cashtags[].tag`),
`includes.users[]` (`id`, `username`, `name`, `public_metrics.followers_count` ...) from the
`author_id` expansion, `meta` with `newest_id`, `oldest_id`, `result_count` and `next_token`
while more pages follow. Pages run newest to oldest; the cursor (`since_id`, the newest post
stored) moves only with the last page of a run, so a run cut short starts over, not past a gap.

Filtered stream, `GET /2/tweets/search/stream`: one JSON object per line (`data`, `includes`,
`matching_rules`), blank lines as keep-alives every ~20 s, error objects on an operational
disconnect. Read for NEXUS_X_STREAM_SECONDS per run, reconnecting with backoff.

Auth: `Authorization: Bearer $NEXUS_X_BEARER_TOKEN` (never logged). Rate: 450 recent-search
requests per 15 minutes (app auth); a 429 carries `x-rate-limit-reset` (epoch seconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from nexus.assembly.ingest.errors import BadPayload, SourceRefused, SourceUnavailable
from nexus.assembly.ingest.http import SourceHttp
from nexus.assembly.ingest.micro import MissingSetting
from nexus.assembly.ingest.micro.posts import post_record
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.source import SourceConfig

log = logging.getLogger("nexus.ingest.x")

SEARCH = "x"
STREAM = "x-stream"
TOKEN_ENV = "NEXUS_X_BEARER_TOKEN"
QUERY_ENV = "NEXUS_X_QUERY"
STREAM_SECONDS_ENV = "NEXUS_X_STREAM_SECONDS"
RULES_PATH = "2/tweets/search/stream/rules"
RULE_TAG = "nexus-alpha"  # the stream rule this connector manages; others are left alone
DEFAULT_QUERY = "($GME OR $AMC OR $BB OR $NOK OR $TSLA) -is:retweet"
MAX_PAGES = 50  # pages per run (100 posts each): a run is bounded, the next one goes on
FIELDS = {
    "tweet.fields": "created_at,author_id,entities,public_metrics,lang",
    "expansions": "author_id",
    "user.fields": "username,name,public_metrics",
}


def bearer_headers(env: Mapping[str, str]) -> dict[str, str]:
    token = env.get(TOKEN_ENV, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _require_token(env: Mapping[str, str]) -> bool:
    return bool(env.get(TOKEN_ENV, "").strip())


def _missing_token() -> MissingSetting:
    return MissingSetting(f"{TOKEN_ENV} is not set: the X API needs an app's bearer token.")


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_posts(document: Mapping[str, Any]) -> list[Record]:
    """The posts of a search page or a stream line, with their authors from `includes.users`.
    KeyError/TypeError/ValueError on a post without its id, text or time."""
    users = {
        str(user["id"]): user for user in (document.get("includes") or {}).get("users", [])
    }
    records = []
    for post in document.get("data") or []:
        user = users.get(str(post.get("author_id")), {})
        metrics = user.get("public_metrics") or {}
        handle = str(user.get("username") or post.get("author_id") or "unknown")
        tags = [str(tag["tag"]) for tag in (post.get("entities") or {}).get("cashtags", [])]
        records.append(post_record(
            SEARCH,
            id=f"x:{post['id']}",
            author=handle,
            text=str(post["text"]),
            created_at=_when(post["created_at"]),
            url=f"https://x.com/{handle}/status/{post['id']}",
            tags=tags,
            name=str(user.get("name") or handle),
            followers=metrics.get("followers_count"),
            following=metrics.get("following_count"),
            posts=metrics.get("tweet_count"),
        ))
    return records


def _letter(source: str, reason: str, request: Mapping[str, Any], excerpt: str) -> DeadLetter:
    return DeadLetter(source, "fetch", reason, {"request": dict(request), "excerpt": excerpt[:500]})


class XSearchSource:
    name = SEARCH

    def __init__(self, config: SourceConfig) -> None:
        self.has_token = _require_token(config.env)
        self.query = config.env.get(QUERY_ENV, "").strip() or DEFAULT_QUERY

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        if not self.has_token:
            raise _missing_token()
        # `--only GME,AMC` searches those cashtags; such a run leaves the cursor alone, since
        # the configured query's posts between the two are not in it.
        query = (
            "(" + " OR ".join(f"${symbol.upper()}" for symbol in window.only) + ") -is:retweet"
            if window.only else self.query
        )
        params: dict[str, Any] = {"query": query, "max_results": 100, **FIELDS}
        since_id = cursor.get("since_id")
        if since_id and window.since is None:
            params["since_id"] = since_id
        elif window.since is not None:
            params["start_time"] = window.since.astimezone(dt.UTC).isoformat(timespec="seconds")
        if window.until is not None:
            params["end_time"] = window.until.astimezone(dt.UTC).isoformat(timespec="seconds")
        newest: str | None = None
        for _ in range(MAX_PAGES):
            try:
                document = await http.get_json("2/tweets/search/recent", params)
            except SourceRefused as error:
                # Recent search reaches back 7 days: an older since_id is a 400. Start over
                # from the oldest post it still has instead of refusing every run from now on.
                if error.status != 400 or "since_id" not in params:
                    raise
                log.warning("since_id too old: searching the last 7 days",
                            extra={"source": SEARCH, "since_id": params.pop("since_id")})
                continue
            try:
                records = parse_posts(document)
                meta = document.get("meta") or {}
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise BadPayload(
                    f"recent search: unexpected shape ({error!r})",
                    request=http.describe("2/tweets/search/recent", params),
                    excerpt=json.dumps(document)[:500],
                ) from None
            # The first page's newest_id is the run's newest post (pages go back in time).
            newest = newest or meta.get("newest_id")
            next_token = meta.get("next_token")
            if not next_token:
                done = dict(cursor) if window.only else {"since_id": _max_id(newest, since_id)}
                yield Batch(records, done)
                return
            yield Batch(records, dict(cursor))  # not past the gap until the last page is in
            params["next_token"] = next_token
        yield Batch([], dict(cursor) if window.only else {"since_id": _max_id(newest, since_id)})


def _max_id(*ids: Any) -> str | None:
    # Post ids are snowflakes: later posts have larger ids (compared as numbers).
    known = [str(i) for i in ids if i]
    return max(known, key=int) if known else None


async def sync_rules(http: SourceHttp, value: str, tag: str = RULE_TAG) -> None:
    """Make the app's filtered-stream rules hold `value` under `tag`: our rules (by tag) with
    another value are deleted, the rule added unless some rule has that value already. Rules of
    other tags are someone else's and stay. Nothing is sent when the rules already agree."""
    answer = await http.get_json(RULES_PATH)
    rules = answer.get("data", []) if isinstance(answer, dict) else None
    if not isinstance(rules, list) or not all(
        isinstance(rule, dict) and isinstance(rule.get("id"), str) for rule in rules
    ):
        raise BadPayload(
            "stream rules: not a list of rules",
            request=http.describe(RULES_PATH, None),
            excerpt=json.dumps(answer)[:300],
        )
    stale = [rule["id"] for rule in rules if rule.get("tag") == tag and rule.get("value") != value]
    if stale:
        await http.post_json(RULES_PATH, {"delete": {"ids": stale}})
        log.info("stream rules deleted", extra={"source": STREAM, "rules": len(stale)})
    if any(rule.get("value") == value for rule in rules):
        return
    added = await http.post_json(RULES_PATH, {"add": [{"value": value, "tag": tag}]})
    errors = added.get("errors", []) if isinstance(added, dict) else []
    refused = [e for e in errors if isinstance(e, dict) and e.get("title") != "DuplicateRule"]
    if refused:  # an invalid rule (syntax, length): the stream would match nothing
        detail = refused[0].get("details") or refused[0].get("title") or "refused"
        raise SourceRefused(400, f"stream rule {value!r}: {detail}"[:300], request={})
    log.info("stream rule added", extra={"source": STREAM, "tag": tag})


class XStreamSource:
    """The filtered stream for NEXUS_X_STREAM_SECONDS (default 60) per run; a batch per second
    of posts. The stream cannot resume from a cursor: the last id is kept for the logs."""

    name = STREAM

    def __init__(self, config: SourceConfig) -> None:
        self.has_token = _require_token(config.env)
        self.rule = config.env.get(QUERY_ENV, "").strip() or DEFAULT_QUERY
        try:
            self.seconds = float(config.env.get(STREAM_SECONDS_ENV, "60"))
        except ValueError:
            self.seconds = -1.0  # refused in `fetch`, where the run can report it

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        if not self.has_token:
            raise _missing_token()
        if not 0 < self.seconds <= 86400:
            raise MissingSetting(f"{STREAM_SECONDS_ENV} must be seconds, from 1 to 86400.")
        await sync_rules(http, self.rule)
        deadline = time.monotonic() + self.seconds
        failures = 0
        state = dict(cursor)
        while time.monotonic() < deadline:
            try:
                async for batch in self._connection(http, state, deadline):
                    failures = 0
                    yield batch
            except (httpx.TransportError, httpx.TimeoutException, _Retry) as error:
                failures += 1
                if failures >= http.retry.attempts:
                    raise SourceUnavailable(f"{STREAM}: {error} after {failures} tries") from None
                wait = min(http.retry.cap_seconds, getattr(error, "wait", None)
                           or http.retry.base_seconds * 2 ** (failures - 1))
                log.warning("stream reconnecting", extra={"source": STREAM, "reason": str(error),
                                                          "wait_s": round(wait, 3)})
                await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))

    async def _connection(
        self, http: SourceHttp, state: dict[str, Any], deadline: float
    ) -> AsyncIterator[Batch]:
        await http.bucket.take()
        http.requests += 1
        request = http.describe("2/tweets/search/stream", FIELDS)
        async with http.client.stream(
            "GET", "2/tweets/search/stream", params=FIELDS,
            timeout=httpx.Timeout(http.retry.timeout_seconds, read=30.0),
        ) as response:
            if response.status_code == 429 or response.status_code >= 500:
                await response.aread()
                raise _Retry(f"HTTP {response.status_code}", _reset_wait(response.headers))
            if response.status_code >= 400:
                await response.aread()
                raise SourceRefused(response.status_code, response.text[:200], request=request)
            pending: list[Record] = []
            letters: list[DeadLetter] = []
            flushed = time.monotonic()
            async for line in response.aiter_lines():
                if line.strip():  # blank lines are keep-alives
                    self._read_line(line, pending, letters, request, state)
                now = time.monotonic()
                if (pending or letters) and now - flushed >= 1.0:
                    yield Batch(pending, dict(state), letters)
                    pending, letters, flushed = [], [], now
                if now >= deadline:
                    break
            if pending or letters:
                yield Batch(pending, dict(state), letters)
        if time.monotonic() < deadline:
            raise _Retry("stream ended", None)

    @staticmethod
    def _read_line(
        line: str,
        pending: list[Record],
        letters: list[DeadLetter],
        request: Mapping[str, Any],
        state: dict[str, Any],
    ) -> None:
        try:
            document = json.loads(line)
            if "data" not in document and "errors" in document:
                # e.g. operational-disconnect: the server will close the connection.
                log.warning("stream error", extra={"source": STREAM,
                                                   "reason": str(document["errors"])[:200]})
                return
            document = {**document, "data": [document["data"]]}
            records = parse_posts(document)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            letters.append(_letter(STREAM, f"stream line: {error!r}"[:300], request, line))
            return
        pending.extend(records)
        for record in records:
            state["last_id"] = _max_id(record.key.removeprefix("x:"), state.get("last_id"))


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None) -> None:
        super().__init__(reason)
        self.wait = wait


def _reset_wait(headers: httpx.Headers) -> float | None:
    reset = headers.get("x-rate-limit-reset")  # epoch seconds when the window resets
    try:
        return max(0.0, float(reset) - time.time()) if reset else None
    except ValueError:
        return None
