"""Fake SEC EDGAR, X API v2 and Reddit servers: Starlette apps serving `fixtures.py` in the
sources' formats, with their own refusals (EDGAR's 403 for an undeclared User-Agent, X's 401
without a bearer token and 429 with `x-rate-limit-reset`, Reddit's rate-limit headers). The
shared fault layer (`nexus.assembly.ingest.fakes`) adds 429/5xx/timeouts/truncated bodies on demand.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from nexus.assembly.ingest.micro import fixtures

_UNDECLARED = (
    "<html><body><h1>Your Request Originates from an Undeclared Automated Tool</h1><p>To allow "
    "for equitable access to all users, SEC reserves the right to limit requests originating "
    "from undeclared automated tools. Please declare your traffic by updating your user agent "
    "to include company specific information.</p></body></html>"
)
_NO_SUCH_KEY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    "<Message>The specified key does not exist.</Message></Error>"
)


def _cik_symbol(name: str) -> str | None:
    digits = name.removeprefix("CIK").split("-")[0].removesuffix(".json")
    by_cik = {cik: symbol for symbol, (cik, _) in fixtures.COMPANIES.items()}
    return by_cik.get(int(digits)) if digits.isdigit() else None


def sec_app() -> Starlette:
    async def guard(request: Request) -> Response | None:
        agent = request.headers.get("user-agent", "")
        if "@" not in agent:
            return Response(_UNDECLARED, status_code=403, media_type="text/html")
        return None

    async def tickers(request: Request) -> Response:
        return await guard(request) or JSONResponse(fixtures.company_tickers())

    async def submissions(request: Request) -> Response:
        if refused := await guard(request):
            return refused
        name = request.path_params["name"]
        symbol = _cik_symbol(name)
        if symbol is None:
            return Response(_NO_SUCH_KEY, status_code=404, media_type="application/xml")
        if name.endswith("-submissions-001.json"):
            return JSONResponse(fixtures.older_submissions(symbol))
        return JSONResponse(fixtures.submissions(symbol))

    async def company_facts(request: Request) -> Response:
        if refused := await guard(request):
            return refused
        symbol = _cik_symbol(request.path_params["name"])
        if symbol is None or symbol in fixtures.FOREIGN:
            return Response(_NO_SUCH_KEY, status_code=404, media_type="application/xml")
        return JSONResponse(fixtures.company_facts(symbol))

    return Starlette(routes=[
        Route("/files/company_tickers.json", tickers),
        Route("/submissions/{name}", submissions),
        Route("/api/xbrl/companyfacts/{name}", company_facts),
    ])


def _x_problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "type": "about:blank", "status": status},
        status_code=status,
    )


def _bearer(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme == "Bearer" and bool(token.strip())


class XRateWindow:
    """X's per-15-minute request budget, made deterministic for tests: `limit` requests, then
    one 429 whose only hint is `x-rate-limit-reset` (epoch seconds, the next whole second), as
    X sends it; the budget starts over after that refusal."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> dict[str, str] | None:
        """The rate-limit headers of an allowed request; None when this one is refused."""
        if self.used >= self.limit:
            self.used = 0
            return None
        self.used += 1
        return self.headers()

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - self.used),
            "x-rate-limit-reset": str(int(time.time()) + 1),
        }


def x_app(*, page_size: int = 3, limit: int = 450) -> Starlette:
    rate = XRateWindow(limit)

    async def recent(request: Request) -> Response:
        if not _bearer(request):
            return _x_problem(401, "Unauthorized", "Unauthorized")
        headers = rate.take()
        if headers is None:
            refused = _x_problem(429, "Too Many Requests", "Too Many Requests")
            refused.headers.update(rate.headers())
            return refused
        params = request.query_params
        try:
            most = int(params.get("max_results", "10"))
        except ValueError:
            most = 0
        if not 10 <= most <= 100:
            return _x_problem(400, "Invalid Request",
                              "The `max_results` query parameter value is not between 10 and 100")
        since = int(params.get("since_id") or 0)
        if since and since < int(fixtures.x_posts()[-1]["id"]) - 10**15:
            return _x_problem(400, "Invalid Request", "One or more parameters to your request "
                              "was invalid. The `since_id` query parameter value must be a post "
                              "created within the last 7 days.")
        # The query's cashtags select posts (the fake reads only `$TICKER` terms of it).
        wanted = {word.strip("()$") for word in params.get("query", "").split()
                  if word.strip("(").startswith("$")}
        posts = [
            p for p in fixtures.x_posts()
            if int(p["id"]) > since
            and (not wanted or wanted & {t["tag"] for t in p["entities"]["cashtags"]})
        ]
        offset = _offset(params.get("next_token"))
        page = posts[offset:offset + min(most, page_size)]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update({"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]})
        if offset + len(page) < len(posts):
            meta["next_token"] = _token(offset + len(page))
        if not page:
            return JSONResponse({"meta": meta}, headers=headers)
        authors = {p["author_id"] for p in page}
        users = [u for u in fixtures.X_USERS if u["id"] in authors]
        return JSONResponse(
            {"data": page, "includes": {"users": users}, "meta": meta}, headers=headers
        )

    return Starlette(routes=[Route("/2/tweets/search/recent", recent)])


def _token(offset: int) -> str:
    return base64.b32encode(f"page:{offset}".encode()).decode().rstrip("=").lower()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        return int(base64.b32decode(padded).decode().removeprefix("page:"))
    except ValueError:
        return 0


def x_stream_app(*, keep_alive_seconds: float = 0.05, bad_line: bool = False) -> Starlette:
    """The filtered stream: each fixture post as a line (`\\r\\n`), keep-alive blank lines
    between them, then the connection closes (as an operational disconnect would)."""

    async def stream(request: Request) -> Response:
        if not _bearer(request):
            return _x_problem(401, "Unauthorized", "Unauthorized")
        users = {u["id"]: u for u in fixtures.X_USERS}

        async def lines() -> AsyncIterator[bytes]:
            for post in reversed(fixtures.x_posts()):  # oldest first, as they were posted
                yield b"\r\n"  # keep-alive
                await asyncio.sleep(keep_alive_seconds)
                line = {
                    "data": post,
                    "includes": {"users": [users[post["author_id"]]]},
                    "matching_rules": [{"id": "1790000000000000001", "tag": "meme stocks"}],
                }
                yield json.dumps(line).encode() + b"\r\n"
                if bad_line:  # a line cut short, as a proxy dropping bytes would
                    yield b'{"data": {"id": "17\r\n'
            yield b"\r\n"

        return StreamingResponse(lines(), media_type="application/json")

    rules: dict[str, dict[str, str]] = {}  # id -> {"id", "value", "tag"}, in creation order
    ids = itertools.count(1790000000000000100)

    async def get_rules(request: Request) -> Response:
        if not _bearer(request):
            return _x_problem(401, "Unauthorized", "Unauthorized")
        listed = list(rules.values())
        meta = {"sent": dt.datetime.now(dt.UTC).isoformat(), "result_count": len(listed)}
        return JSONResponse({"data": listed, "meta": meta} if listed else {"meta": meta})

    async def post_rules(request: Request) -> Response:
        """X's rule changes: `{"add": [{"value", "tag"}]}` or `{"delete": {"ids": [...]}}`."""
        if not _bearer(request):
            return _x_problem(401, "Unauthorized", "Unauthorized")
        try:
            body = await request.json()
        except ValueError:
            return _x_problem(400, "Invalid Request", "The request body is not JSON.")
        sent = dt.datetime.now(dt.UTC).isoformat()
        if isinstance(body, dict) and isinstance(body.get("delete"), dict):
            gone = [rules.pop(i) for i in body["delete"].get("ids", []) if i in rules]
            summary = {"deleted": len(gone), "not_deleted": len(body["delete"]["ids"]) - len(gone)}
            return JSONResponse({"meta": {"sent": sent, "summary": summary}})
        if not (isinstance(body, dict) and isinstance(body.get("add"), list)):
            return _x_problem(400, "Invalid Request", "One of add or delete is required.")
        created: list[dict[str, str]] = []
        errors: list[dict[str, Any]] = []
        for rule in body["add"]:
            value = str(rule.get("value", ""))
            same = next((r for r in rules.values() if r["value"] == value), None)
            if same is not None:
                errors.append({"value": value, "id": same["id"], "title": "DuplicateRule",
                               "type": "https://api.twitter.com/2/problems/duplicate-rules"})
                continue
            if not value.strip() or len(value) > 512:
                errors.append({"value": value, "title": "Invalid Rule",
                               "details": ["Rules must be 1 to 512 characters."]})
                continue
            new = {"id": str(next(ids)), "value": value}
            if rule.get("tag"):
                new["tag"] = str(rule["tag"])
            rules[new["id"]] = new
            created.append(new)
        summary = {"created": len(created), "not_created": len(errors),
                   "valid": len(created), "invalid": len(errors)}
        answer: dict[str, Any] = {"meta": {"sent": sent, "summary": summary}}
        if created:
            answer["data"] = created
        if errors:
            answer["errors"] = errors
        return JSONResponse(answer, status_code=201 if created else 200)

    return Starlette(routes=[
        Route("/2/tweets/search/stream", stream),
        Route("/2/tweets/search/stream/rules", get_rules, methods=["GET"]),
        Route("/2/tweets/search/stream/rules", post_rules, methods=["POST"]),
    ])


def reddit_app(*, page_size: int = 3) -> Starlette:
    async def listing(request: Request) -> Response:
        agent = request.headers.get("user-agent", "")
        headers = {"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1",
                   "x-ratelimit-reset": "420"}
        if not agent or agent.startswith("python-"):
            # Reddit throttles generic clients hard; a descriptive User-Agent is required.
            return JSONResponse({"message": "Too Many Requests", "error": 429},
                                status_code=429, headers=headers)
        subreddit = request.path_params["subreddit"]
        items = fixtures.reddit_items(subreddit)
        after = request.query_params.get("after")
        start = next((i + 1 for i, item in enumerate(items) if item["data"]["name"] == after),
                     0 if not after else len(items))
        try:
            most = min(100, max(1, int(request.query_params.get("limit", "25"))))
        except ValueError:
            most = 25
        page = items[start:start + min(most, page_size)]
        more = start + len(page) < len(items)
        return JSONResponse({
            "kind": "Listing",
            "data": {
                "after": page[-1]["data"]["name"] if page and more else None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": None,
                "children": page,
                "before": None,
            },
        }, headers=headers)

    return Starlette(routes=[Route("/r/{subreddit}/new.json", listing)])
