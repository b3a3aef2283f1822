"""What the executor sends requests through: one protocol, in-process and HTTP transports.

A transport never raises for a subgraph failure: it answers a GraphQL response whose errors carry
`extensions.code` (SUBGRAPH_ERROR or SUBGRAPH_UNAVAILABLE) and `extensions.serviceName`.
"""

from __future__ import annotations

from typing import Any, Protocol

SubgraphResponse = dict[str, Any]


class Transport(Protocol):
    async def fetch(
        self, service: str, query: str, variables: dict[str, Any] | None
    ) -> SubgraphResponse: ...

    async def ready(self) -> dict[str, bool]: ...

    async def close(self) -> None: ...


def subgraph_error(service: str, message: str, code: str, **extensions: Any) -> SubgraphResponse:
    return {
        "data": None,
        "errors": [
            {"message": message, "extensions": {"code": code, "serviceName": service, **extensions}}
        ],
    }


def checked_response(service: str, body: Any) -> SubgraphResponse:
    """`body` if it is a GraphQL response, else a SUBGRAPH_ERROR saying what came back."""
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return subgraph_error(
            service,
            f'Subgraph "{service}" answered something that is not a GraphQL response.',
            "SUBGRAPH_ERROR",
        )
    data = body.get("data")
    errors = body.get("errors")
    if (data is not None and not isinstance(data, dict)) or (
        errors is not None and not isinstance(errors, list)
    ):
        return subgraph_error(
            service,
            f'Subgraph "{service}" answered a malformed GraphQL response.',
            "SUBGRAPH_ERROR",
        )
    return body
