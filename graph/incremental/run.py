"""Run an operation with `@defer` as a stream of payloads: the primary result, then the
deferred fragments as they complete (`hasNext` / `incremental`, as Apollo Router emits them
with `deferSpec=20220824`).

Each part (the primary operation and every deferred fragment) goes through the router's
ordinary path: limits, access control, demand control and a cached plan of its own. The parts
start together, so the stream takes as long as its slowest part, not their sum; a nested
fragment is delivered only after the fragment that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    print_ast,
    visit,
)
from graphql.execution.values import get_variable_values

from graph.edge.demand import EdgeOutcome
from graph.incremental.split import PLACEHOLDER_KEY, DeferredPart, DeferSplit, split_deferred
from graph.planner.shape import ResponseShape, ShapeField
from nexus.auth.caller import ANONYMOUS, Caller

if TYPE_CHECKING:
    from graph.router import Router

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Incremental:
    """An operation with active `@defer` fragments, split and ready to stream."""

    primary: str  # the printed primary operation
    parts: tuple[tuple[DeferredPart, str], ...]  # each deferred part and its printed operation


async def incremental_split(
    router: Router,
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> Incremental | None:
    """`query` split for incremental delivery, or None when it is answered in one response (no
    active `@defer`, not a query, or a request error the ordinary path reports)."""
    if "@defer" not in query:  # the common case costs one substring search
        return None
    try:
        parsed, operation = await router.prepare_off_loop(query, operation_name)
    except Exception:
        return None
    if operation.operation is not OperationType.QUERY:
        return None
    coerced = get_variable_values(
        router.supergraph.api_schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return None
    split = split_deferred(parsed.document, operation, dict(coerced.coerced))
    if not split.deferred:
        return None
    return Incremental(
        _printed(split.primary),
        tuple((part, _printed(part.document)) for part in split.deferred if part.document),
    )


def _printed(document: DocumentNode | None) -> str:
    """The operation with only the variable definitions it uses (unused ones fail validation)."""
    assert document is not None
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    used: set[str] = set()

    class _Variables(Visitor):
        def enter_variable(self, node: VariableNode, *_: object) -> None:
            used.add(node.name.value)

    visit(operation.selection_set, _Variables())
    definitions = tuple(
        d for d in operation.variable_definitions or () if d.variable.name.value in used
    )
    trimmed = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=definitions,
        directives=operation.directives,
        selection_set=operation.selection_set,
    )
    return print_ast(DocumentNode(definitions=(trimmed,)))


async def deferred_payloads(
    router: Router,
    incremental: Incremental,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    *,
    caller: Caller = ANONYMOUS,
    outcome: EdgeOutcome | None = None,
) -> AsyncGenerator[Payload, None]:
    """The primary payload (`hasNext: true`), then one payload per completed deferred
    fragment; the last says `hasNext: false`. A primary without data ends the stream."""

    async def run(
        text: str, part_outcome: EdgeOutcome | None, path: tuple[str, ...] | None
    ) -> Payload:
        """One part through the router's edge and planner, its response shape adjusted: the
        primary hides its placeholders; a deferred part stops null propagation at its path."""
        planned = await router._plan(text, variables, operation_name, caller)
        if isinstance(planned, dict):
            return planned
        shape = _without_placeholder(planned.plan.shape)
        adjusted = shape if path is None else _nullable_along(shape, path)
        plan = dataclasses.replace(planned.plan, shape=adjusted)
        return await router._admitted(
            dataclasses.replace(planned, plan=plan),
            operation_name,
            variables,
            caller,
            part_outcome,
        )

    primary_task = asyncio.ensure_future(run(incremental.primary, outcome, None))
    tasks = {
        asyncio.ensure_future(run(text, None, part.path)): index
        for index, (part, text) in enumerate(incremental.parts)
    }
    try:
        primary = dict(await primary_task)
        if primary.get("data") is None:
            yield {**primary, "hasNext": False}
            return
        yield {**primary, "hasNext": True}
        delivered: set[int] = set()
        waiting: dict[int, Payload] = {}
        remaining = len(tasks)
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                waiting[tasks[task]] = dict(task.result())
            # Deliver every finished part whose enclosing part was delivered already.
            ready = _deliverable(incremental, waiting, delivered)
            while ready is not None:
                part = incremental.parts[ready][0]
                response = waiting.pop(ready)
                delivered.add(ready)
                remaining -= 1
                payload = _payload(part, response, has_next=remaining > 0)
                if payload is not None:
                    yield payload
                ready = _deliverable(incremental, waiting, delivered)
        if remaining > 0:  # parts whose enclosing part never came: nothing more to send
            yield {"hasNext": False}
    finally:
        for task in (primary_task, *tasks):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(primary_task, *tasks, return_exceptions=True)


def _without_placeholder(shape: ResponseShape) -> ResponseShape:
    def kept(fields: tuple[ShapeField, ...]) -> tuple[ShapeField, ...]:
        return tuple(
            dataclasses.replace(f, children=kept(f.children) if f.children else f.children)
            for f in fields
            if f.response_key != PLACEHOLDER_KEY
        )

    return dataclasses.replace(shape, fields=kept(shape.fields))


def _nullable_along(shape: ResponseShape, path: tuple[str, ...]) -> ResponseShape:
    """`shape` with every field on `path` (and its list items) nullable: a deferred fragment's
    failed non-null field nulls the fragment's object, never the data above it."""

    def relaxed(fields: tuple[ShapeField, ...], rest: tuple[str, ...]) -> tuple[ShapeField, ...]:
        if not rest:
            return fields
        return tuple(
            dataclasses.replace(
                f,
                wrappers=tuple(w for w in f.wrappers if w != "non_null"),
                children=relaxed(f.children, rest[1:]) if f.children else f.children,
            )
            if f.response_key == rest[0]
            else f
            for f in fields
        )

    return dataclasses.replace(shape, fields=relaxed(shape.fields, path))


def _deliverable(
    incremental: Incremental, waiting: Mapping[int, Payload], delivered: set[int]
) -> int | None:
    for index in sorted(waiting):
        parent = incremental.parts[index][0].parent
        if parent is None or parent in delivered:
            return index
    return None


def _payload(part: DeferredPart, response: Payload, *, has_next: bool) -> Payload | None:
    """The subsequent payload of one deferred part: an `incremental` item for every object at
    its path, each with the errors below that object."""
    items: list[Payload] = []
    for path, value in _objects_at(response.get("data"), part.path, []):
        if isinstance(value, dict) and not value:
            continue  # the fragment's type condition does not apply to this object
        item: Payload = {"data": value, "path": path}
        if part.label is not None:
            item["label"] = part.label
        items.append(item)
    leftover: list[Payload] = []
    for error in response.get("errors") or ():
        owner = next((i for i in items if _under(error.get("path"), i["path"])), None)
        if owner is None and items and not error.get("path"):
            owner = items[0]
        if owner is None:
            leftover.append(error)
        else:
            owner.setdefault("errors", []).append(error)
    if not items and not leftover and has_next:
        return None
    payload: Payload = {"hasNext": has_next}
    if items:
        payload["incremental"] = items
    if leftover:
        payload["errors"] = leftover
    return payload


def _under(error_path: Any, path: list[Any]) -> bool:
    return isinstance(error_path, list) and error_path[: len(path)] == path


def _objects_at(value: Any, path: tuple[str, ...], at: list[Any]) -> list[tuple[list[Any], Any]]:
    """Every value at `path` (list items entered by index) with its concrete response path."""
    if isinstance(value, list):
        found: list[tuple[list[Any], Any]] = []
        for index, item in enumerate(value):
            found.extend(_objects_at(item, path, [*at, index]))
        return found
    if not path:
        return [(at, value)]
    if not isinstance(value, dict):
        return []
    return _objects_at(value.get(path[0]), path[1:], [*at, path[0]])


__all__ = ["DeferSplit", "Incremental", "deferred_payloads", "incremental_split"]
