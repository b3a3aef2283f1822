"""@fromContext values: read from each object's ancestor, one `_entities` call per value set."""

from __future__ import annotations

import json
from typing import Any

from graph.executor.data import Path

Found = list[tuple[Path, dict[str, Any]]]


def by_context(
    data: dict[str, Any], found: Found, reads: tuple[tuple[str, tuple[str, ...], str], ...]
) -> list[tuple[dict[str, Any], Found]]:
    """`found` (objects with their concrete paths) grouped by the variables `reads` fill: each
    read takes `key` of the ancestor at the first `len(ancestor path)` steps of the object's
    path (the planner's paths step once per field and once per list level, as the data)."""
    groups: dict[str, tuple[dict[str, Any], Found]] = {}
    for at, obj in found:
        values = {
            variable: _ancestor_value(data, at[: len(ancestor_path)], key)
            for variable, ancestor_path, key in reads
        }
        identity = json.dumps(values, sort_keys=True, default=str)
        groups.setdefault(identity, (values, []))[1].append((at, obj))
    return list(groups.values())


def _ancestor_value(data: Any, path: Path, key: str) -> Any:
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and 0 <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data.get(key) if isinstance(data, dict) else None
