"""Subgraph streams: what the router reads a subscription's events from.

A stream yields `StreamItem`s: `next` with a GraphQL response per event, or one `error` with the
errors that stopped it from starting; it ends when the subgraph completes the subscription. The
caller closes it (`aclose`) to unsubscribe.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

log = logging.getLogger("graph.subscriptions")

Errors = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StreamItem:
    kind: Literal["next", "error"]
    response: dict[str, Any] = field(default_factory=dict)  # for `next`
    errors: Errors = field(default_factory=list)  # for `error`


class SubgraphStreams(Protocol):
    def subscribe(
        self,
        service: str,
        query: str,
        variables: dict[str, Any] | None,
        connection_params: Mapping[str, Any],
    ) -> AsyncIterator[StreamItem]: ...

    async def close(self) -> None: ...


def stream_error(service: str, message: str, code: str) -> StreamItem:
    error = {"message": message, "extensions": {"code": code, "serviceName": service}}
    return StreamItem("error", errors=[error])


def formatted_errors(errors: Any) -> Errors:
    out: Errors = []
    for error in errors or ():
        formatted = getattr(error, "formatted", error)
        out.append(dict(formatted) if isinstance(formatted, Mapping) else {"message": str(error)})
    return out


# `make_context(connection_params)` builds the context of one subscription.
ContextFactory = Callable[[Mapping[str, Any]], Any]


class InProcessStreams:
    """Subscribe by calling each subgraph's Strawberry schema in this process."""

    def __init__(self, schemas: Mapping[str, Any], contexts: Mapping[str, ContextFactory]) -> None:
        self.schemas = dict(schemas)
        self.contexts = dict(contexts)

    async def subscribe(
        self,
        service: str,
        query: str,
        variables: dict[str, Any] | None,
        connection_params: Mapping[str, Any],
    ) -> AsyncIterator[StreamItem]:
        schema = self.schemas.get(service)
        if schema is None:
            yield stream_error(
                service, f'No in-process subgraph named "{service}".', "SUBGRAPH_UNAVAILABLE"
            )
            return
        make_context = self.contexts.get(service)
        context = make_context(connection_params) if make_context is not None else None
        try:
            result = await schema.subscribe(query, variable_values=variables, context_value=context)
        except Exception:
            log.exception("in-process subscription to %s failed to start", service)
            yield stream_error(service, f'Subgraph "{service}" failed.', "SUBGRAPH_ERROR")
            return
        if not inspect.isasyncgen(result) and not hasattr(result, "__aiter__"):
            yield StreamItem(
                "error", errors=_with_service(formatted_errors(result.errors), service)
            )
            return
        async with contextlib.aclosing(result) as events:
            async for event in events:
                response: dict[str, Any] = {"data": event.data}
                if event.errors:
                    response["errors"] = formatted_errors(event.errors)
                yield StreamItem("next", response)

    async def close(self) -> None:
        return None


def _with_service(errors: Errors, service: str) -> Errors:
    for error in errors:
        extensions = error.setdefault("extensions", {})
        if isinstance(extensions, dict):
            extensions.setdefault("serviceName", service)
    return errors
