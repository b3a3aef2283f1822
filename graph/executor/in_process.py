"""In-process transport: call each subgraph's schema directly (no HTTP hop, no JSON)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graph.executor.transport import SubgraphResponse, checked_response, subgraph_error

log = logging.getLogger("graph.executor")

SubgraphCall = Callable[[str, dict[str, Any] | None], Awaitable[Any] | Any]


class InProcessTransport:
    """`calls[name](query, variables)` returns an ExecutionResult (Strawberry or graphql-core) or
    a response dict, directly or as an awaitable."""

    def __init__(self, calls: Mapping[str, SubgraphCall], *, timeout: float | None = 30.0) -> None:
        self.calls = dict(calls)
        self.timeout = timeout

    async def fetch(
        self, service: str, query: str, variables: dict[str, Any] | None
    ) -> SubgraphResponse:
        call = self.calls.get(service)
        if call is None:
            return subgraph_error(
                service, f'No in-process subgraph named "{service}".', "SUBGRAPH_UNAVAILABLE"
            )
        try:
            result = call(query, variables)
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, self.timeout)
        except TimeoutError:
            return subgraph_error(
                service,
                f'Subgraph "{service}" did not answer within {self.timeout:g}s.',
                "SUBGRAPH_UNAVAILABLE",
            )
        except Exception:
            log.exception("in-process subgraph %s failed", service)
            return subgraph_error(service, f'Subgraph "{service}" failed.', "SUBGRAPH_ERROR")
        if isinstance(result, dict):
            return checked_response(service, result)
        errors = getattr(result, "errors", None)
        response: SubgraphResponse = {"data": getattr(result, "data", None)}
        if errors:
            response["errors"] = [_formatted(e) for e in errors]
        return response

    async def ready(self) -> dict[str, bool]:
        return dict.fromkeys(self.calls, True)

    async def close(self) -> None:
        return None


def _formatted(error: Any) -> dict[str, Any]:
    formatted = getattr(error, "formatted", None)
    if isinstance(formatted, dict):
        return dict(formatted)
    return {"message": str(error)}
