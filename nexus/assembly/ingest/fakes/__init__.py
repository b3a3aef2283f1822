"""Local fake servers for every connector, in the sources' real formats, behind one port.

`fake_servers()` mounts each connector's fake app at `/{name}` (`nexus ingest fake-servers
--port N`; then NEXUS_INGEST_FAKE_URL=http://127.0.0.1:N points ingestion at them). A fault
layer in front of them lets a test script failures on a path prefix, through HTTP so it works
across processes:

    POST /_faults {"path": "/fred/fred/series/observations", "faults": ["429:1", "truncate"]}
    GET  /_faults  ->  {"hits": {path: requests served}, "pending": {...}}
    DELETE /_faults

Each fault is consumed by one request, in order:
- `429[:S]`: Too Many Requests with `Retry-After: S` (default 1);
- `500`, `502`, `503`, `504`: the status with an HTML error page, as a load balancer sends;
- `timeout[:S]`: answer after S seconds (default 5), past the client's timeout;
- `truncate`: the real response cut in half, Content-Length matching (a malformed body);
- `drop`: the real headers, then half the body and the connection closed (a transport error);
- `html`: 200 with an HTML page instead of the format (a captive portal, a CDN error).

`fake_servers(cache_responses=True)` (`nexus ingest fake-servers --cache-responses`, for the
benchmarks only) answers a request it answered before (same method, path, query and body) with
the bytes it sent then, under the fault layer: a real source builds its pages on its own
machine, while these fakes build them in Python on the benchmark's own cores. A cached answer
skips the fake's own bookkeeping (Binance's request weight); a request to a control path
(`/_chain`, `/_limits`) clears the cache. The tests' fakes never cache.
`fake_servers(latency_seconds=S)` (`--latency-ms`, benchmarks) makes every request to a fake
API wait S seconds first, as a remote API's round trip does.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ERROR_PAGE = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}"
    "</h1></center><hr><center>nginx</center></body></html>"
)
REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}


class FaultPlan:
    def __init__(self) -> None:
        self.pending: dict[str, deque[str]] = defaultdict(deque)
        self.hits: Counter[str] = Counter()

    def take(self, path: str) -> str | None:
        for prefix, faults in self.pending.items():
            if path.startswith(prefix) and faults:
                return faults.popleft()
        return None


class FaultLayer:
    """ASGI middleware: serves /_faults and applies the next scripted fault to a request."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/_faults":
            await self.control(scope, receive, send)
            return
        self.plan.hits[path] += 1
        fault = self.plan.take(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        kind, _, argument = fault.partition(":")
        if kind == "429":
            response: Response = JSONResponse(
                {"error_code": 429, "error_message": "Too Many Requests.  Exceeded Rate Limit"},
                status_code=429,
                headers={"Retry-After": argument or "1"},
            )
        elif kind in ("500", "502", "503", "504"):
            status = int(kind)
            page = ERROR_PAGE.format(status=status, reason=REASONS[status])
            response = Response(page, status_code=status, media_type="text/html")
        elif kind == "html":
            response = Response(
                "<html><body>Service temporarily unavailable</body></html>", media_type="text/html"
            )
        elif kind == "timeout":
            await asyncio.sleep(float(argument or 5))
            await self.app(scope, receive, send)
            return
        elif kind in ("truncate", "drop"):
            await self.cut(scope, receive, send, keep_length=kind == "drop")
            return
        else:
            response = Response(f"unknown fault {fault!r}", status_code=500)
        await response(scope, receive, send)

    async def cut(self, scope: Scope, receive: Receive, send: Send, *, keep_length: bool) -> None:
        started: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        half = bytes(body[: len(body) // 2])
        headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
        length = len(body) if keep_length else len(half)
        headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": started["status"], "headers": headers})
        # With the full length announced and half sent, uvicorn closes the connection: the
        # client sees the body end early, as when a connection drops mid-transfer.
        await send({"type": "http.response.body", "body": half, "more_body": False})

    async def control(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "POST":
            script = json.loads(await request.body())
            self.plan.pending[script["path"]].extend(script["faults"])
        elif request.method == "DELETE":
            self.plan.pending.clear()
            self.plan.hits.clear()
        answer = {
            "hits": dict(self.plan.hits),
            "pending": {k: list(v) for k, v in self.plan.pending.items() if v},
        }
        await JSONResponse(answer)(scope, receive, send)


class ResponseCache:
    """ASGI middleware: replays the 200 answers of requests it has seen (benchmarks only)."""

    def __init__(self, app: ASGIApp, entries: int = 1024) -> None:
        self.app = app
        self.entries = entries
        self.answers: dict[tuple[str, str, bytes, bytes], tuple[Message, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if path.rsplit("/", 1)[-1].startswith("_"):  # /_chain, /_limits: the fake's state moves
            self.answers.clear()
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        key = (scope["method"], path, scope.get("query_string", b""), bytes(body))
        cached = self.answers.get(key)
        if cached is not None:
            await send(cached[0])
            await send({"type": "http.response.body", "body": cached[1], "more_body": False})
            return
        started: dict[str, Any] = {}
        sent = bytearray()
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                sent.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        if started.get("status") == 200:
            if len(self.answers) >= self.entries:
                self.answers.pop(next(iter(self.answers)))
            self.answers[key] = (dict(started), bytes(sent))


class Latency:
    """ASGI middleware: each HTTP request to a fake API waits `seconds` before it is served,
    as a remote API's round trip does (the benchmarks' `--latency-ms`); the control paths
    (`/_faults`, a fake's `/_chain` or `/_limits`) answer at once."""

    def __init__(
        self,
        app: ASGIApp,
        seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/_" not in scope["path"] and scope["path"] != "/":
            await self.sleep(self.seconds)
        await self.app(scope, receive, send)


def fake_servers(*, cache_responses: bool = False, latency_seconds: float = 0.0) -> ASGIApp:
    """Every registered connector's fake app, mounted at /NAME, behind the fault layer (and,
    for benchmarks, a cache of their answers under it and a round trip's latency before it)."""
    from nexus.assembly.ingest.registry import connectors

    routes: list[Route | Mount] = [Route("/", _index)]
    for name, connector in connectors().items():
        if connector.fake is not None:
            routes.append(Mount(f"/{name}", app=connector.fake()))
    app: ASGIApp = Starlette(routes=routes)
    if cache_responses:
        app = ResponseCache(app)
    app = FaultLayer(app, FaultPlan())
    return Latency(app, latency_seconds) if latency_seconds > 0 else app


async def _index(request: Request) -> Response:
    from nexus.assembly.ingest.registry import connectors

    return JSONResponse(
        {name: f"/{name}" for name, connector in connectors().items() if connector.fake}
    )
