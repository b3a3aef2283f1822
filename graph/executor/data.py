"""Walking and merging response data: objects at a Flatten path, representations, deep merge."""

from __future__ import annotations

from typing import Any

from graph.planner.nodes import FieldSelection, InlineFragment, Selection

Path = list[str | int]


def objects_at(data: Any, path: tuple[str, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """Every object reached by `path` (`@` enters each list item), with its concrete path."""
    found: list[tuple[Path, dict[str, Any]]] = []

    def walk(value: Any, remaining: tuple[str, ...], at: Path) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, remaining[1:] if remaining[:1] == ("@",) else remaining, [*at, index])
            return
        if not remaining:
            if isinstance(value, dict):
                found.append((at, value))
            return
        step, rest = remaining[0], remaining[1:]
        if step == "@":
            walk(value, rest, at)
        elif isinstance(value, dict):
            walk(value.get(step), rest, [*at, step])

    walk(data, path, [])
    return found


def representation(
    obj: dict[str, Any], requires: tuple[Selection, ...], typename: str
) -> dict[str, Any] | None:
    """The `_entities` representation of `obj` (of type `typename`), or None when it lacks a
    required value."""
    for selection in requires:
        if isinstance(selection, InlineFragment) and selection.type_condition == typename:
            fields = tuple(
                s
                for s in selection.selections
                if not (isinstance(s, FieldSelection) and s.name == "__typename")
            )
            selected = _select(obj, fields)
            if selected is None:
                return None
            return {"__typename": typename, **selected}
    return None


def _select(obj: dict[str, Any], selections: tuple[Selection, ...]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for selection in selections:
        if isinstance(selection, InlineFragment):
            if obj.get("__typename") == selection.type_condition:
                inner = _select(obj, selection.selections)
                if inner is None:
                    return None
                out.update(inner)
            continue
        assert isinstance(selection, FieldSelection)
        key = selection.response_key  # read where it was fetched (maybe aliased) ...
        if key not in obj:
            return None
        value = obj[key]
        if selection.selections is not None and value is not None:
            value = _select_value(value, selection.selections)
            if value is None:
                return None
        out[selection.name] = value  # ... and send it under the field's name
    return out


def _select_value(value: Any, selections: tuple[Selection, ...]) -> Any:
    if isinstance(value, list):
        return [_select_value(v, selections) if v is not None else None for v in value]
    if isinstance(value, dict):
        return _select(value, selections)
    return None


def restore_client_keys(value: Any, selections: tuple[Selection, ...]) -> None:
    """Rename internally aliased keys of a subgraph response back to the client's keys."""
    if isinstance(value, list):
        for item in value:
            restore_client_keys(item, selections)
        return
    if not isinstance(value, dict):
        return
    for selection in selections:
        if isinstance(selection, InlineFragment):
            restore_client_keys(value, selection.selections)
            continue
        key = selection.response_key
        if key not in value:
            continue
        if selection.selections is not None:
            restore_client_keys(value[key], selection.selections)
        if selection.client_key is not None:
            value[selection.client_key] = value.pop(key)


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge `source` into `target`; the `__typename` already there wins (an @interfaceObject
    subgraph answers with the interface's name, not the object's)."""
    for key, value in source.items():
        existing = target.get(key)
        if key == "__typename" and existing is not None:
            continue
        if isinstance(existing, dict) and isinstance(value, dict):
            deep_merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            for index, (old, new) in enumerate(zip(existing, value, strict=True)):
                if isinstance(old, dict) and isinstance(new, dict):
                    deep_merge(old, new)
                elif new is not None or old is None:
                    existing[index] = new
        elif value is not None or existing is None:
            target[key] = value
