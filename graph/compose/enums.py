"""Enum merging follows where an enum is used: outputs take the union of values (a client may
receive any of them), inputs the intersection (every subgraph must accept what a client sends),
and an enum used both ways must have the same values everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from graph.compose.model import SubgraphSchema
from graph.compose.types import named_type


def enum_usage(subgraphs: Sequence[SubgraphSchema]) -> dict[str, set[str]]:
    usage: dict[str, set[str]] = {}
    for subgraph in subgraphs:
        for type_def in subgraph.types.values():
            for field in type_def.fields.values():
                position = "input" if type_def.kind == "input" else "output"
                usage.setdefault(named_type(field.type), set()).add(position)
                for argument in field.arguments.values():
                    usage.setdefault(named_type(argument.type), set()).add("input")
    return usage


def kept_values(
    name: str,
    values_by_subgraph: dict[str, list[str]],
    usage: set[str],
    errors: list[str],
) -> set[str] | None:
    """The values the supergraph keeps; None keeps them all (output-only or unused enums)."""
    if "input" not in usage:
        return None
    every = set.intersection(*(set(v) for v in values_by_subgraph.values()))
    if "output" in usage:
        for subgraph, values in sorted(values_by_subgraph.items()):
            missing = sorted({v for vs in values_by_subgraph.values() for v in vs} - set(values))
            if missing:
                listed = ", ".join(f'"{v}"' for v in missing)
                errors.append(
                    f'Enum "{name}" is used as both an input and an output, so every subgraph '
                    f'must define the same values; subgraph "{subgraph}" lacks {listed}.'
                )
    return every
