"""Stage 2, choose: which subgraph resolves a root field, and which key an entity jump uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graph.planner.errors import UnsatisfiableFieldError
from graph.planner.operation import OperationField
from graph.supergraph.model import EntityKey, Supergraph


def root_subgraph(
    supergraph: Supergraph, root_type: str, field: OperationField, already_used: Sequence[str]
) -> str:
    """Prefer a subgraph already fetched from, then the one resolving most of the subtree."""
    candidates = supergraph.graphs_resolving(root_type, field.name)
    if not candidates:
        raise UnsatisfiableFieldError(
            f'No subgraph resolves "{root_type}.{field.name}"; check the supergraph.'
        )
    for used in already_used:
        if used in candidates:
            return used
    # max() keeps the first of equals: candidates are sorted by name, so ties go by name.
    return max(candidates, key=lambda g: _local_children(supergraph, field, g))


def _local_children(supergraph: Supergraph, field: OperationField, graph: str) -> int:
    return sum(
        1 for child in field.children if supergraph.resolves(child.parent_type, child.name, graph)
    )


def jump_targets(
    supergraph: Supergraph,
    type_name: str,
    fields: Sequence[OperationField],
    from_graph: str,
    usable: Callable[[str, str], bool] = lambda graph, entity_type: True,
) -> dict[tuple[str, str], list[OperationField]]:
    """Fields `from_graph` cannot resolve on `type_name`, grouped by (subgraph, entity type).

    The entity type is `type_name`, or an interface that an @interfaceObject subgraph resolves.
    `usable` says whether a target can be entered from here (one of its keys can be supplied).
    Greedy: the target able to serve the most remaining fields wins; among equals, the one that
    also resolves most of those fields' own selections (each it cannot is another, sequential
    jump from there); then by name.
    """
    remaining = list(fields)
    chosen: dict[tuple[str, str], list[OperationField]] = {}
    known: dict[tuple[str, str], bool] = {}

    def entered(target: tuple[str, str]) -> bool:
        if target not in known:
            known[target] = usable(*target)
        return known[target]

    every = {id(f): _targets(supergraph, type_name, f.name) for f in fields}
    options = jump_options(supergraph, type_name, fields, lambda g, t: entered((g, t)))
    while remaining:
        counts: dict[tuple[str, str], int] = {}
        for f in remaining:
            for target in options[id(f)]:
                counts[target] = counts.get(target, 0) + 1
        if not counts:
            field = remaining[0]
            if every[id(field)]:
                graphs = ", ".join(f'"{g}"' for g, _ in every[id(field)])
                raise UnsatisfiableFieldError(
                    f'Cannot resolve "{type_name}.{field.name}" from subgraph "{from_graph}": '
                    f"{graphs} resolves it, but no @key of theirs can be supplied from "
                    f'"{from_graph}" (a key field is @external there or only reachable in a '
                    "cycle); resolve a key field there or add a key it can supply."
                )
            raise UnsatisfiableFieldError(
                f'Cannot resolve "{type_name}.{field.name}" from subgraph "{from_graph}": no other '
                f'subgraph resolves it with a resolvable @key on "{type_name}". Add a @key to '
                f'"{type_name}" in a subgraph that resolves the field.'
            )
        local: dict[tuple[str, str], int] = {}
        top = max(counts.values())
        for target in (t for t, count in counts.items() if count == top):
            local[target] = sum(
                _local_children(supergraph, f, target[0])
                for f in remaining
                if target in options[id(f)]
            )
        best = min(local, key=lambda t: (-local[t], t))
        chosen[best] = [f for f in remaining if best in options[id(f)]]
        remaining = [f for f in remaining if best not in options[id(f)]]
    return chosen


def jump_options(
    supergraph: Supergraph,
    type_name: str,
    fields: Sequence[OperationField],
    usable: Callable[[str, str], bool],
) -> dict[int, list[tuple[str, str]]]:
    """The (subgraph, entity type) targets each field (by `id`) could be fetched from."""
    return {
        id(f): [t for t in _targets(supergraph, type_name, f.name) if usable(*t)] for f in fields
    }


def _targets(supergraph: Supergraph, type_name: str, field_name: str) -> list[tuple[str, str]]:
    direct = [
        (graph, type_name)
        for graph in supergraph.graphs_resolving(type_name, field_name)
        if _has_key(supergraph, type_name, graph)
    ]
    return direct or supergraph.interface_object_graphs(type_name, field_name)


def _has_key(supergraph: Supergraph, type_name: str, graph: str) -> bool:
    in_graph = supergraph.types[type_name].graphs.get(graph)
    return in_graph is not None and any(k.resolvable for k in in_graph.keys)


def entity_keys(
    supergraph: Supergraph, type_name: str, to_graph: str, from_graph: str
) -> list[EntityKey]:
    """The resolvable keys of `to_graph`, those `from_graph` can supply by itself first."""
    keys = [k for k in supergraph.types[type_name].graphs[to_graph].keys if k.resolvable]
    return sorted(
        keys,
        key=lambda k: not all(supergraph.resolves(type_name, n, from_graph) for n in k.top_level),
    )
