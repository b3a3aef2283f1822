"""@fromContext values: read from each object's nearest ancestor setting the context, one
`_entities` call per distinct set of values."""

from __future__ import annotations

import json
from typing import Any

from graph.executor.data import Path
from graph.planner.nodes import ContextRead, ContextSource, ValueShape

Found = list[tuple[Path, dict[str, Any]]]


def by_context(
    data: dict[str, Any], found: Found, reads: tuple[ContextRead, ...]
) -> list[tuple[dict[str, Any], Found]]:
    """`found` (objects with their concrete paths) grouped by the variables `reads` fill. A
    source's ancestor is the object at the first `len(source.path)` steps of the object's path
    (the planner's paths step once per field and once per list level, as the data)."""
    groups: dict[str, tuple[dict[str, Any], Found]] = {}
    for at, obj in found:
        values = {read.variable: _value(data, at, read.sources) for read in reads}
        if any(value is _NO_SOURCE for value in values.values()):
            continue  # below no ancestor this fetch reads (another type condition's fetch)
        identity = json.dumps(values, sort_keys=True, default=str)
        groups.setdefault(identity, (values, []))[1].append((at, obj))
    return list(groups.values())


_NO_SOURCE = object()


def _value(data: dict[str, Any], at: Path, sources: tuple[ContextSource, ...]) -> Any:
    for source in sources:  # nearest first
        ancestor = _at(data, at[: len(source.path)])
        if not isinstance(ancestor, dict) or source.key not in ancestor:
            continue
        typename = ancestor.get("__typename")
        if typename is None or typename in source.types:
            return _cut(ancestor[source.key], source.shape)
    return _NO_SOURCE


def _at(data: Any, path: Path) -> Any:
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and 0 <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def _cut(value: Any, shape: ValueShape) -> Any:
    """An input object keeps only the keys its selection names (the response may hold more)."""
    if not shape or value is None:
        return value
    if isinstance(value, list):
        return [_cut(item, shape) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: _cut(value.get(key), inner) for key, inner in shape}
