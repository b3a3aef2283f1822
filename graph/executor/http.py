"""HTTP transport: a pooled httpx client POSTing GraphQL-over-HTTP to each subgraph's URL."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping
from typing import Any

import httpx

from graph.executor.transport import SubgraphResponse, checked_response, subgraph_error

ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class HttpTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = 10.0,
        max_connections: int = 32,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        deduplicate: bool = True,
    ) -> None:
        """One pooled client per subgraph (`max_connections` each): httpcore's pool scans every
        connection it holds on each request, so small per-subgraph pools stay fast under load.
        A given `client` is shared by all subgraphs instead (tests pass a mock transport).
        With `deduplicate`, identical queries (not mutations) in flight share one request."""
        self.urls = dict(urls)
        self.timeout = timeout
        self.deduplicate = deduplicate
        self._in_flight: dict[
            tuple[str, bytes], asyncio.Future[tuple[int, bytes] | SubgraphResponse]
        ] = {}
        self.clients = {
            service: client
            or httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
                headers={"accept": ACCEPT, **(headers or {})},
            )
            for service in self.urls
        }

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
        body = json.dumps(payload).encode()
        if not self.deduplicate or query.lstrip().startswith("mutation"):
            answer = await self._post(service, url, body)
        else:
            # Identical queries in flight share one subgraph request; each caller parses its
            # own copy of the body, so callers never share mutable response data.
            key = (service, body)
            pending = self._in_flight.get(key)
            if pending is None:
                pending = asyncio.ensure_future(self._post(service, url, body))
                self._in_flight[key] = pending
                pending.add_done_callback(lambda _: self._in_flight.pop(key, None))
            answer = await asyncio.shield(pending)
        if isinstance(answer, dict):
            return copy.deepcopy(answer)
        status, content = answer
        try:
            parsed = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        if status >= 500 or (status >= 400 and parsed is None):
            return subgraph_error(
                service,
                f'Subgraph "{service}" answered HTTP {status}.',
                "SUBGRAPH_ERROR",
                http={"status": status},
            )
        return checked_response(service, parsed)

    async def _post(
        self, service: str, url: str, body: bytes
    ) -> tuple[int, bytes] | SubgraphResponse:
        try:
            response = await self.clients[service].post(
                url, content=body, headers={"content-type": "application/json"}
            )
        except httpx.TimeoutException:
            return subgraph_error(
                service,
                f'Subgraph "{service}" did not answer within {self.timeout:g}s.',
                "SUBGRAPH_UNAVAILABLE",
            )
        except httpx.HTTPError as error:
            return subgraph_error(
                service,
                f'Subgraph "{service}" is unreachable ({type(error).__name__}).',
                "SUBGRAPH_UNAVAILABLE",
            )
        return response.status_code, response.content

    async def ready(self) -> dict[str, bool]:
        states = {}
        for service in self.urls:
            response = await self.fetch(service, "{ __typename }", None)
            states[service] = not response.get("errors") and response.get("data") is not None
        return states

    async def close(self) -> None:
        for client in set(self.clients.values()):
            await client.aclose()
