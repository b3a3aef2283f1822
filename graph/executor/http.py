"""HTTP transport: a pooled httpx client POSTing GraphQL-over-HTTP to each subgraph's URL."""

from __future__ import annotations

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
        max_connections: int = 100,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.urls = dict(urls)
        self.timeout = timeout
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"accept": ACCEPT, **(headers or {})},
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
        try:
            response = await self.client.post(url, json=payload)
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
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code >= 500 or (response.status_code >= 400 and body is None):
            return subgraph_error(
                service,
                f'Subgraph "{service}" answered HTTP {response.status_code}.',
                "SUBGRAPH_ERROR",
                http={"status": response.status_code},
            )
        return checked_response(service, body)

    async def ready(self) -> dict[str, bool]:
        states = {}
        for service in self.urls:
            response = await self.fetch(service, "{ __typename }", None)
            states[service] = not response.get("errors") and response.get("data") is not None
        return states

    async def close(self) -> None:
        await self.client.aclose()
