"""HTTP transport: pooled keep-alive connections POSTing GraphQL-over-HTTP to each subgraph's URL.

`http://` subgraphs go through the router's own HTTP/1.1 client (graph/executor/wire.py: under
a third of aiohttp's CPU per request); `https://` ones through aiohttp (a third of httpx's).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import orjson

from graph.edge.context import current_caller
from graph.edge.identity import CallerSigner
from graph.executor.calls import BACKOFF_SECONDS, SubgraphCalls
from graph.executor.transport import SubgraphResponse, checked_response, subgraph_error
from graph.executor.wire import WireClient
from nexus.auth.router_identity import HEADER as IDENTITY_HEADER
from nexus.tracing import inject_headers

ACCEPT = "application/graphql-response+json, application/json;q=0.9"
_RETRIED_STATUSES = frozenset({502, 503, 504})


class SubgraphClient(Protocol):
    """POSTs a JSON body; answers the status and the body. Raises TimeoutError when the
    subgraph does not answer in time, and aiohttp.ClientError or OSError when it cannot be
    reached."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


class PooledClient:
    """At most `max_connections` keep-alive connections to each subgraph: `http://` ones through
    a `WireClient`, `https://` ones through one aiohttp session, opened on first use (it belongs
    to the running event loop)."""

    def __init__(self, *, timeout: float, max_connections: int, headers: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self.headers = {"accept": ACCEPT, "content-type": "application/json", **headers}
        self._session: aiohttp.ClientSession | None = None
        self._wire = WireClient(
            timeout=timeout, max_connections=max_connections, headers=self.headers
        )

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.max_connections)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            skip_auto_headers=("user-agent",),
        )
        return self._session

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        trace_headers: dict[str, str] = dict(headers or {})
        inject_headers(trace_headers)  # W3C traceparent: the subgraph's spans join the trace
        if url.startswith("http://"):
            return await self._wire.post(url, body, trace_headers)
        session = self._session or self._open()
        async with session.post(url, data=body, headers=trace_headers or None) as response:
            return response.status, await response.read()

    async def close(self) -> None:
        await self._wire.close()
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = 10.0,
        max_connections: int = 32,
        headers: Mapping[str, str] | None = None,
        client: SubgraphClient | None = None,
        deduplicate: bool = True,
        identity: CallerSigner | None = None,
        calls: SubgraphCalls | None = None,
    ) -> None:
        """At most `max_connections` connections to each subgraph; a given `client` replaces
        the pooled one (tests pass a fake). With `deduplicate`, identical queries (not
        mutations) of one caller in flight share one request. With `identity`, every request
        carries the operation's caller in the signed `nexus-caller` header. `calls` sets
        per-subgraph timeouts and retries (default: `timeout` for all, no retries)."""
        self.calls = calls or SubgraphCalls(timeout_seconds=timeout)
        timeout = max(timeout, self.calls.longest_timeout)
        self.urls = dict(urls)
        self.identity = identity
        self.timeout = timeout
        self.deduplicate = deduplicate
        self._in_flight: dict[
            tuple[str, bytes, str | None], asyncio.Future[tuple[int, bytes] | SubgraphResponse]
        ] = {}
        self.client = client or PooledClient(
            timeout=timeout, max_connections=max_connections, headers=headers or {}
        )

    async def fetch(
        self, service: str, query: str, variables: dict[str, Any] | None
    ) -> SubgraphResponse:
        url = self.urls.get(service)
        if not url:
            return subgraph_error(
                service,
                f'Subgraph "{service}" has no URL in the supergraph.',
                "SUBGRAPH_UNAVAILABLE",
            )
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        body = _encoded(payload)
        signed = self.identity.header(current_caller()) if self.identity is not None else None
        headers = {IDENTITY_HEADER: signed} if signed is not None else None
        if query.lstrip().startswith("mutation"):
            answer = await self._post(service, url, body, headers)
        elif not self.deduplicate:
            answer = await self._post_retrying(service, url, body, headers)
        else:
            # Identical queries of one caller in flight share one subgraph request; each
            # operation parses its own copy of the body, so none shares mutable response data.
            key = (service, body, signed)
            pending = self._in_flight.get(key)
            if pending is None:
                pending = asyncio.ensure_future(self._post_retrying(service, url, body, headers))
                self._in_flight[key] = pending
                pending.add_done_callback(lambda _: self._in_flight.pop(key, None))
            answer = await asyncio.shield(pending)
        if isinstance(answer, dict):
            return copy.deepcopy(answer)
        status, content = answer
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError:
            parsed = None
        if status >= 500 or (status >= 400 and parsed is None):
            return subgraph_error(
                service,
                f'Subgraph "{service}" answered HTTP {status}.',
                "SUBGRAPH_ERROR",
                http={"status": status},
            )
        return checked_response(service, parsed)

    async def _post_retrying(
        self, service: str, url: str, body: bytes, headers: Mapping[str, str] | None
    ) -> tuple[int, bytes] | SubgraphResponse:
        """`_post`, again after a short backoff while the subgraph is unreachable, late or
        answers 502/503/504, up to the subgraph's retries (queries only: they are idempotent)."""
        answer = await self._post(service, url, body, headers)
        delay = BACKOFF_SECONDS
        for _ in range(self.calls.retries_of(service)):
            if isinstance(answer, tuple) and answer[0] not in _RETRIED_STATUSES:
                break
            await asyncio.sleep(delay)
            delay *= 2
            answer = await self._post(service, url, body, headers)
        return answer

    async def _post(
        self, service: str, url: str, body: bytes, headers: Mapping[str, str] | None
    ) -> tuple[int, bytes] | SubgraphResponse:
        timeout = self.calls.timeout_of(service)
        try:
            if headers is None:  # clients written before identity headers take two arguments
                posting = self.client.post(url, body)
            else:
                posting = self.client.post(url, body, headers)
            if timeout >= self.timeout:  # the client's own timeout: no task per call
                return await posting
            return await asyncio.wait_for(posting, timeout)
        except TimeoutError:
            return subgraph_error(
                service,
                f'Subgraph "{service}" did not answer within {timeout:g}s.',
                "SUBGRAPH_UNAVAILABLE",
            )
        except (aiohttp.ClientError, OSError) as error:
            return subgraph_error(
                service,
                f'Subgraph "{service}" is unreachable ({type(error).__name__}).',
                "SUBGRAPH_UNAVAILABLE",
            )

    async def ready(self) -> dict[str, bool]:
        states = {}
        for service in self.urls:
            response = await self.fetch(service, "{ __typename }", None)
            states[service] = not response.get("errors") and response.get("data") is not None
        return states

    async def close(self) -> None:
        await self.client.close()


def _encoded(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # an integer beyond 64 bits in the variables: orjson refuses those
        return json.dumps(payload, separators=(",", ":")).encode()
