"""Run an operation against one subgraph the way its ASGI app does: a fresh context per request."""

from __future__ import annotations

from typing import Any

from nexus.stores import Stores
from nexus.subgraph import Subgraph


async def execute(
    subgraph: Subgraph, stores: Stores, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The response a client gets: `data`, and `errors` (message, path, extensions) if any."""
    result = await subgraph.schema.execute(
        query, variable_values=variables, context_value=subgraph.make_context(stores)
    )
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [
            {"message": e.message, "path": e.path, "extensions": e.extensions}
            for e in result.errors
        ]
    return response
