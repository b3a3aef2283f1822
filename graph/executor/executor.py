"""Run a plan: one `match` over plan nodes; independent fetches run concurrently."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry.trace import SpanKind

from graph.executor.contexts import by_context
from graph.executor.data import (
    Path,
    deep_merge,
    objects_at,
    representation,
    restore_client_keys,
)
from graph.executor.transport import SubgraphResponse, Transport
from graph.planner.nodes import (
    Condition,
    Fetch,
    Flatten,
    InlineFragment,
    Parallel,
    PlanNode,
    Sequence,
    Subscription,
)
from nexus.metrics import SUBGRAPH_FETCH_SECONDS
from nexus.tracing import span, spans_recorded


class PlanRun:
    """The state of one execution: the merged data and the errors gathered so far."""

    def __init__(self, transport: Transport, variables: Mapping[str, Any]) -> None:
        self.transport = transport
        self.variables = variables
        self.data: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []

    async def run(self, node: PlanNode) -> None:
        match node:
            case Fetch():
                await self._root_fetch(node)
            case Flatten(path, fetch):
                await self._entity_fetch(path, fetch)
            case Sequence(nodes):
                for child in nodes:
                    await self.run(child)
            case Parallel(nodes):
                await asyncio.gather(*(self.run(child) for child in nodes))
            case Condition(condition, if_clause, else_clause, default):
                chosen = if_clause if self.variables.get(condition, default) else else_clause
                if chosen is not None:
                    await self.run(chosen)
            case Subscription():
                raise NotImplementedError("subscriptions are executed by the subscription handler")

    def _variables(self, fetch: Fetch) -> dict[str, Any]:
        return {
            name: self.variables[name] for name in fetch.variable_usages if name in self.variables
        }

    async def _fetch(
        self, service: str, operation: str, variables: dict[str, Any] | None
    ) -> SubgraphResponse:
        """One subgraph fetch, timed and traced (the span is current inside the transport, so
        in-process subgraph spans nest under it and HTTP carries it as `traceparent`)."""
        started = time.perf_counter()
        if not spans_recorded():  # no exporter: the span would be made and dropped
            response = await self.transport.fetch(service, operation, variables)
        else:
            name = f"fetch {service}"
            with span(name, {"nexus.subgraph": service}, kind=SpanKind.CLIENT) as fetch:
                response = await self.transport.fetch(service, operation, variables)
                if response.get("errors"):
                    fetch.set_attribute("nexus.subgraph.errors", len(response["errors"]))
        outcome = "errors" if response.get("errors") else "ok"
        _fetch_seconds(service, outcome).observe(time.perf_counter() - started)
        return response

    async def _root_fetch(self, fetch: Fetch) -> None:
        response = await self._fetch(fetch.service, fetch.operation, self._variables(fetch) or None)
        data = response.get("data")
        if isinstance(data, dict):
            if fetch.internal_aliases:
                restore_client_keys(data, fetch.selections)
            deep_merge(self.data, data)
        self._add_errors(fetch.service, response, lambda path: path)

    async def _entity_fetch(self, path: tuple[str, ...], fetch: Fetch) -> None:
        found = objects_at(self.data, path)
        if not fetch.context_reads:
            await self._entities(found, fetch, {})
            return
        groups = by_context(self.data, found, fetch.context_reads)  # @fromContext values
        await asyncio.gather(*(self._entities(objs, fetch, values) for values, objs in groups))

    async def _entities(
        self, found: list[tuple[Path, dict[str, Any]]], fetch: Fetch, context: dict[str, Any]
    ) -> None:
        types = {s.type_condition for s in fetch.requires if isinstance(s, InlineFragment)}
        rewrites = dict(fetch.typename_rewrites)
        targets: list[list[tuple[Path, dict[str, Any]]]] = []
        representations: list[dict[str, Any]] = []
        index_of: dict[bytes, int] = {}
        # Objects from an @interfaceObject subgraph carry no __typename: one condition names them.
        default = next(iter(types)) if len(types) == 1 else None
        for at, obj in found:
            typename = obj.get("__typename") or default
            if typename not in types:
                continue
            rep = representation(obj, fetch.requires, typename)
            if rep is None:
                continue
            rep["__typename"] = rewrites.get(rep["__typename"], rep["__typename"])
            identity = _identity(rep)
            if identity not in index_of:
                index_of[identity] = len(representations)
                representations.append(rep)
                targets.append([])
            targets[index_of[identity]].append((at, obj))
        if not representations:
            return
        variables = {**self._variables(fetch), **context, "representations": representations}
        response = await self._fetch(fetch.service, fetch.operation, variables)
        data = response.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if isinstance(entities, list) and len(entities) == len(representations):
            if fetch.internal_aliases:
                restore_client_keys(entities, fetch.selections)
            for entity, objects in zip(entities, targets, strict=True):
                if isinstance(entity, dict):
                    for _, obj in objects:
                        deep_merge(obj, entity)
        elif data is not None:
            self.errors.append(
                {
                    "message": f'Subgraph "{fetch.service}" returned {len(entities or [])} '
                    f"entities for {len(representations)} representations.",
                    "extensions": {"code": "SUBGRAPH_ERROR", "serviceName": fetch.service},
                }
            )

        def rebase(error_path: list[Any]) -> list[Any] | None:
            if len(error_path) >= 2 and error_path[0] == "_entities":
                index = error_path[1]
                if isinstance(index, int) and 0 <= index < len(targets):
                    return [*targets[index][0][0], *error_path[2:]]
            return None

        self._add_errors(fetch.service, response, rebase)

    def _add_errors(self, service: str, response: SubgraphResponse, rebase: Any) -> None:
        for error in response.get("errors") or ():
            if not isinstance(error, dict):
                continue
            copied = {"message": str(error.get("message", "Subgraph error"))}
            path = error.get("path")
            if isinstance(path, list):
                rebased = rebase(path)
                if rebased is not None:
                    copied["path"] = rebased
            extensions = dict(error.get("extensions") or {})
            extensions.setdefault("serviceName", service)
            copied["extensions"] = extensions  # type: ignore[assignment]
            self.errors.append(copied)


@functools.cache
def _fetch_seconds(service: str, outcome: str) -> Any:
    """The fetch-duration histogram's child for these labels (`labels()` per fetch took a lock
    and built the key each time); the label values are few: the subgraphs and two outcomes."""
    return SUBGRAPH_FETCH_SECONDS.labels(service, outcome)


def _identity(representation: dict[str, Any]) -> bytes:
    """Equal representations, whatever their key order, have equal identities."""
    try:
        return orjson.dumps(representation, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # an integer beyond 64 bits: orjson refuses those
        return json.dumps(representation, sort_keys=True, default=str).encode()
