"""GraphQL type references as strings: compare shapes, loosen for outputs, tighten for inputs."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\[|\]|!|[_A-Za-z][_0-9A-Za-z]*")


def named_type(type_ref: str) -> str:
    return type_ref.strip("[]!")


def same_shape(a: str, b: str) -> bool:
    """Equal once nullability is ignored: `[Int!]` and `[Int]!` are; `Int` and `[Int]` are not."""
    return a.replace("!", "") == b.replace("!", "")


def _merge(a: str, b: str, keep_non_null_if_either: bool) -> str:
    left, right = _TOKEN.findall(a), _TOKEN.findall(b)
    merged: list[str] = []
    i = j = 0
    while i < len(left) or j < len(right):
        lt = left[i] if i < len(left) else None
        rt = right[j] if j < len(right) else None
        if lt == rt:
            merged.append(lt or "")
            i, j = i + 1, j + 1
        elif lt == "!":
            if keep_non_null_if_either:
                merged.append("!")
            i += 1
        else:
            if keep_non_null_if_either:
                merged.append("!")
            j += 1
    return "".join(merged)


def loosest(types: list[str]) -> str:
    """The output type every subgraph's type is a subtype of (nullable where any is nullable)."""
    result = types[0]
    for other in types[1:]:
        result = _merge(result, other, keep_non_null_if_either=False)
    return result


def strictest(types: list[str]) -> str:
    """The input type every subgraph accepts (non-null where any requires it)."""
    result = types[0]
    for other in types[1:]:
        result = _merge(result, other, keep_non_null_if_either=True)
    return result
