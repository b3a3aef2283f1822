"""The final response: the client's selection over the merged data, with spec null propagation.

Fields the planner added (keys, @requires inputs, `__typename`) are dropped because only the
shape's fields are copied; a null in a non-null position nulls the nearest nullable parent.
"""

from __future__ import annotations

from typing import Any

from graph.planner.shape import ResponseShape, ShapeField, Wrapper

Errors = list[dict[str, Any]]


class TypedObject(dict[str, Any]):
    """An object of an abstract field as the client sees it, which remembers its runtime type
    (the client need not select `__typename`): the actual cost weighs it by its own type.
    Encoded as the plain object it is."""

    __slots__ = ("typename",)

    typename: str


class _Invalid:
    """A non-null position came back null: the parent must become null."""


INVALID = _Invalid()


def shape_response(shape: ResponseShape, data: dict[str, Any], errors: Errors) -> Any:
    result = _object(shape.fields, data, shape.root_type, None, errors)
    for error in errors:  # every error a client sees carries a code, whoever raised it
        extensions = error.setdefault("extensions", {})
        if isinstance(extensions, dict):
            extensions.setdefault("code", "SUBGRAPH_ERROR")
    return None if result is INVALID else result


# A response position's path, built only when an error needs it: (parent, key) pairs, so each
# field and list item costs a tuple instead of a copy of the whole path so far.
Path = tuple[Any, Any] | None


def _path_list(path: Path) -> list[Any]:
    keys: list[Any] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


# The fields of a selection that apply to a runtime type, grouped by response key (merged
# children of same-keyed fields joined), kept per selection (its tuple, held here so that its id
# stays its own) and type: shaping reads them for every object of every response.
_Entries = list[tuple[str, ShapeField, tuple[ShapeField, ...] | None]]
_GROUPS: dict[tuple[int, str], tuple[tuple[ShapeField, ...], _Entries]] = {}
_GROUPS_LIMIT = 4096


def _grouped(fields: tuple[ShapeField, ...], runtime_type: str) -> _Entries:
    cached = _GROUPS.get((id(fields), runtime_type))
    if cached is not None and cached[0] is fields:
        return cached[1]
    grouped: dict[str, list[ShapeField]] = {}
    for field in fields:
        if field.applies_to is None or runtime_type in field.applies_to:
            grouped.setdefault(field.response_key, []).append(field)
    entries: _Entries = []
    for key, group in grouped.items():
        children = None
        if group[0].children is not None:
            children = tuple(c for g in group for c in (g.children or ()))
        entries.append((key, group[0], children))
    if len(_GROUPS) >= _GROUPS_LIMIT:  # plans of many documents: start again
        _GROUPS.clear()
    _GROUPS[(id(fields), runtime_type)] = (fields, entries)
    return entries


def _object(
    fields: tuple[ShapeField, ...],
    source: dict[str, Any],
    runtime_type: str,
    path: Path,
    errors: Errors,
    abstract: bool = False,
) -> dict[str, Any] | _Invalid:
    out: dict[str, Any]
    if abstract:
        out = TypedObject()
        out.typename = runtime_type
    else:
        out = {}
    for key, field, children in _grouped(fields, runtime_type):
        if field.name == "__typename":
            out[key] = runtime_type
            continue
        if field.introspection:
            out[key] = source.get(key)
            continue
        value = _value(field, field.wrappers, source.get(key), children, (path, key), errors)
        if value is INVALID:
            return INVALID
        out[key] = value
    return out


def _value(
    field: ShapeField,
    wrappers: tuple[Wrapper, ...],
    value: Any,
    children: tuple[ShapeField, ...] | None,
    path: Path,
    errors: Errors,
) -> Any:
    if wrappers and wrappers[0] == "non_null":
        inner = _value(field, wrappers[1:], value, children, path, errors)
        if inner is None:
            _null_error(field, path, errors)
            return INVALID
        return inner
    if value is None:
        return None
    if wrappers:  # a list
        if not isinstance(value, list):
            return None
        items = []
        for index, item in enumerate(value):
            shaped = _value(field, wrappers[1:], item, children, (path, index), errors)
            if shaped is INVALID:
                return None
            items.append(shaped)
        return items
    if children is None:
        if field.allowed is not None and value not in field.allowed:
            _hidden_error(field, "a value", path, errors)
            return None
        return value
    if not isinstance(value, dict):
        return None
    typename = value.get("__typename")
    # an @interfaceObject subgraph alone says nothing more precise than the interface's name
    if (
        field.allowed is not None
        and typename not in (None, field.named_type)
        and typename not in field.allowed
    ):
        _hidden_error(field, "an object type", path, errors)
        return None
    runtime_type = typename or field.named_type
    shaped = _object(children, value, runtime_type, path, errors, field.abstract)
    return None if shaped is INVALID else shaped


def _hidden_error(field: ShapeField, what: str, at: Path, errors: Errors) -> None:
    """A subgraph returned an @inaccessible enum value or object type: it stays unnamed."""
    errors.append(
        {
            "message": f"A subgraph returned {what} of {field.named_type} that clients cannot "
            f"see (it is @inaccessible) for {field.parent_type}.{field.name}.",
            "path": _path_list(at),
            "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
        }
    )


def _null_error(field: ShapeField, at: Path, errors: Errors) -> None:
    path = _path_list(at)
    for error in errors:
        error_path = error.get("path")
        if isinstance(error_path, list) and error_path[: len(path)] == path:
            return
        if isinstance(error_path, list) and path[: len(error_path)] == error_path:
            return
    errors.append(
        {
            "message": "Cannot return null for non-nullable field "
            f"{field.parent_type}.{field.name}.",
            "path": path,
            # Apollo Router's code for a subgraph response that breaks the schema's nullability.
            "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
        }
    )
