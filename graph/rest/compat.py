"""The v1 rule, checked: a new OpenAPI document may only add to the frozen one.

Breaking: a path, method, status or response field removed or retyped; a field made nullable
or optional; a parameter removed, retyped or newly required; an enum value removed. A method
that only answered 405 (declared but not offered, like the seed's DELETE /simulations/{id}
once was) may become served: that adds to v1.
"""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]


def breaking_changes(frozen: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What `current` breaks of `frozen`, one line each (empty: additions only)."""
    changes: list[str] = []
    for path, methods in frozen["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            now = current["paths"].get(path, {}).get(method)
            if now is None:
                changes.append(f"{where}: removed")
                continue
            if set(operation["responses"]) == {"405"}:
                continue  # a placeholder for a method not offered yet: serving it is an addition
            changes.extend(_parameters(where, operation, now))
            for status, response in operation["responses"].items():
                if status not in now["responses"]:
                    changes.append(f"{where} {status}: response removed")
                    continue
                for media, content in response.get("content", {}).items():
                    current_content = now["responses"][status].get("content", {}).get(media)
                    if current_content is None:
                        changes.append(f"{where} {status}: {media} removed")
                        continue
                    changes.extend(
                        _schema(f"{where} {status}", content["schema"], current_content["schema"])
                    )
    return changes


def _parameters(where: str, frozen: dict[str, Any], current: dict[str, Any]) -> list[str]:
    changes = []
    before = {(p["name"], p["in"]): p for p in frozen.get("parameters", [])}
    after = {(p["name"], p["in"]): p for p in current.get("parameters", [])}
    for key, parameter in before.items():
        if key not in after:
            changes.append(f"{where}: parameter {key[0]} removed")
        elif _types(parameter["schema"]) != _types(after[key]["schema"]):
            changes.append(f"{where}: parameter {key[0]} retyped")
    for key, parameter in after.items():
        if key not in before and parameter.get("required"):
            changes.append(f"{where}: new required parameter {key[0]}")
    return changes


def _types(schema: JsonSchema) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _schema(where: str, frozen: JsonSchema, current: JsonSchema) -> list[str]:
    if "$ref" in frozen or "$ref" in current:
        return [] if frozen.get("$ref") == current.get("$ref") else [f"{where}: retyped"]
    if _types(frozen) != _types(current):
        return [f"{where}: type {sorted(_types(frozen))} became {sorted(_types(current))}"]
    changes = []
    if "enum" in frozen and (lost := set(frozen["enum"]) - set(current.get("enum", []))):
        changes.append(f"{where}: enum values {sorted(map(str, lost))} removed")
    if "items" in frozen:
        changes.extend(_schema(f"{where}[]", frozen["items"], current.get("items", {})))
    properties = current.get("properties", {})
    required = set(current.get("required", []))
    for name, schema in frozen.get("properties", {}).items():
        if name not in properties:
            changes.append(f"{where}.{name}: removed")
            continue
        if name in frozen.get("required", []) and name not in required:
            changes.append(f"{where}.{name}: no longer always present")
        changes.extend(_schema(f"{where}.{name}", schema, properties[name]))
    return changes
