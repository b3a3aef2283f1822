"""The HTTP client every source uses: a rate limit per source, retries with exponential
backoff and jitter on 429, 5xx, timeouts and dropped connections (honouring Retry-After), and
structured logs that never carry a credential.

One `SourceHttp` per source run. Its rate limit is a token bucket sized from the source's
published limit (FRED: about 120 requests a minute; SEC: ten a second), so a long backfill
stays under it instead of bouncing off 429s.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from nexus.assembly.ingest.errors import BadPayload, SourceRefused, SourceUnavailable

log = logging.getLogger("nexus.ingest.http")
# httpx logs every request's full URL at INFO, query string (FRED's api_key) included.
logging.getLogger("httpx").setLevel(logging.WARNING)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `requests` per `per_seconds`, with bursts up to `requests` (token bucket)."""

    requests: float
    per_seconds: float = 1.0

    @property
    def per_second(self) -> float:
        return self.requests / self.per_seconds


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base_seconds: float = 0.5  # first backoff; doubles each retry, with full jitter
    cap_seconds: float = 30.0  # no single wait (Retry-After included) is longer
    timeout_seconds: float = 30.0  # per request (connect, read, write, pool)


class TokenBucket:
    def __init__(self, rate: Rate, clock: Any = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self.tokens = rate.requests
        self.updated = clock()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                now = self.clock()
                self.tokens = min(
                    self.rate.requests, self.tokens + (now - self.updated) * self.rate.per_second
                )
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate.per_second)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by every run's client: building one
    reads the CA bundle (tens of milliseconds), once per run otherwise."""
    return httpx.create_ssl_context()  # what httpx builds by default (SSL_CERT_FILE honoured)


class SourceHttp:
    """GET with rate limiting and retries; JSON/text answers, typed errors.

    `secrets` are query parameter and header names whose values never reach a log line, an
    error or a dead letter (FRED's `api_key`, X's `Authorization`)."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        rate: Rate,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.source = source
        self.retry = retry or RetryPolicy()
        self.bucket = TokenBucket(rate)
        self.secrets = frozenset(name.lower() for name in secrets) | {"authorization"}
        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=self.retry.timeout_seconds,
            transport=transport,
            follow_redirects=True,
            verify=_tls_context(),
        )
        self.requests = 0  # sent, retries included
        self.retries = 0

    def describe(self, path: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The request as logs and dead letters show it: credentials replaced by ***."""
        shown = {
            name: ("***" if name.lower() in self.secrets else value)
            for name, value in (params or {}).items()
        }
        return {"source": self.source, "path": path, "params": shown}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """The response to GET `path`, after retries; SourceRefused on 4xx that retrying cannot
        fix, SourceUnavailable when the retries are spent."""
        return await self.send("GET", path, params)

    async def post_json(self, path: str, body: Any) -> Any:
        """POST `body` as JSON (a JSON-RPC call: an idempotent read), the answer as JSON;
        retried like `get`."""
        response = await self.send("POST", path, None, body)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise BadPayload(
                f"not JSON ({error})", request=self.describe(path, None), excerpt=response.text
            ) from None

    async def send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any = None
    ) -> httpx.Response:
        request = self.describe(path, params)
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            await self.bucket.take()
            self.requests += 1
            started = time.perf_counter()
            wait: float | None = None
            try:
                response = await self.client.request(method, path, params=params, json=body)
                # The body is read before the status is judged: a connection dropped half-way
                # through raises here (httpx.RemoteProtocolError) and is retried like a timeout.
                await response.aread()
            except (httpx.TimeoutException, httpx.TransportError) as error:
                last = type(error).__name__
            else:
                elapsed = round(1000 * (time.perf_counter() - started), 1)
                if response.status_code < 400:
                    log.debug(
                        "fetched",
                        extra={**request, "status": response.status_code, "ms": elapsed},
                    )
                    return response
                last = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise SourceRefused(
                        response.status_code, _error_message(response), request=request
                    )
                wait = _retry_after(response.headers.get("retry-after"))
                if wait is None and response.status_code == 429:
                    wait = _rate_limit_reset(response.headers)
            if attempt == self.retry.attempts:
                break
            delay = self._backoff(attempt, wait)
            self.retries += 1
            log.warning(
                "retrying",
                extra={**request, "reason": last, "attempt": attempt, "wait_s": round(delay, 3)},
            )
            await asyncio.sleep(delay)
        log.error("source unavailable", extra={**request, "reason": last})
        raise SourceUnavailable(f"{self.source}: {last} after {self.retry.attempts} attempts")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry.cap_seconds)
        # Full jitter (AWS architecture blog): clients that failed together retry apart.
        ceiling = min(self.retry.cap_seconds, self.retry.base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self.get(path, params)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise BadPayload(
                f"not JSON ({error})",
                request=self.describe(path, params),
                excerpt=response.text,
            ) from None

    async def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        response = await self.get(path, params)
        return response.text

    async def close(self) -> None:
        await self.client.aclose()


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _rate_limit_reset(headers: httpx.Headers) -> float | None:
    """The wait a 429 without Retry-After announces in its rate-limit headers: X's
    `x-rate-limit-reset` (epoch seconds when the window resets), Reddit's `x-ratelimit-reset`
    (seconds until it does)."""
    try:
        if "x-rate-limit-reset" in headers:
            return max(0.0, float(headers["x-rate-limit-reset"]) - time.time())
        if "x-ratelimit-reset" in headers:
            return max(0.0, float(headers["x-ratelimit-reset"]))
    except ValueError:
        return None
    return None


def _error_message(response: httpx.Response) -> str:
    """The source's own error text (FRED: `error_message`), short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for name in ("error_message", "message", "detail", "error", "title"):
            if isinstance(body.get(name), str):
                return str(body[name])[:200]
    return response.text[:200]
