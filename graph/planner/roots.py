"""Choosing root subgraphs: the fewest fetches, or a selection split across subgraphs.

Each candidate subgraph of a root field is tried by walking the field from it (a trial walk on
a fresh fetch graph); the one needing the fewest fetches wins (@provides and keys counted).
When no candidate serves the whole selection of a @shareable root field (a keyless value type
whose fields are spread across subgraphs), the selection is split: each part goes to the
subgraph serving the most of what remains.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from graph.planner.choose import root_subgraph
from graph.planner.errors import UnsatisfiableFieldError
from graph.planner.fetch_graph import FetchGroup
from graph.planner.operation import OperationField
from graph.planner.passes import optimise_fetch_graph

if TYPE_CHECKING:
    from graph.planner.walk import Walker

_UNSERVED = float("inf")


def root_parts(
    walker: Walker, field: OperationField, roots: list[FetchGroup]
) -> list[tuple[str, OperationField]]:
    """(subgraph, field with the part of its selection that subgraph serves), in order."""
    supergraph, root_type = walker.supergraph, walker.operation.root_type
    if walker.operation.kind == "mutation":
        used = [roots[-1].subgraph] if roots else []
    else:
        used = [g.subgraph for g in roots]
    candidates = supergraph.graphs_resolving(root_type, field.name)
    if len(candidates) <= 1:
        return [(root_subgraph(supergraph, root_type, field, used), field)]
    costs = {graph: fetches_from(walker, graph, field, used) for graph in candidates}
    best = min(candidates, key=lambda g: (costs[g], g not in used, g))
    if costs[best] < _UNSERVED or not field.children:
        return [(best, field)]
    return _split(walker, field, candidates, used) or [(best, field)]


def fetches_from(walker: Walker, graph: str, field: OperationField, used: list[str]) -> float:
    """How many fetches root `field` takes from `graph` (one less if `graph` is already
    fetched from); infinite when `graph` cannot serve all of it."""
    from graph.planner.walk import Position, Walker

    trial = Walker(walker.supergraph, walker.operation, trial_depth=walker.trial_depth + 1)
    group = trial.fetch_graph.new_group(graph, (), entity=False, depends_on=[])
    start = Position(group, group.selections, ())
    try:
        trial.plan_fields(start, walker.operation.root_type, [field])
    except UnsatisfiableFieldError:
        return _UNSERVED
    optimise_fetch_graph(trial.fetch_graph)
    return len(trial.fetch_graph.groups) - (graph in used)


def _split(
    walker: Walker, field: OperationField, candidates: list[str], used: list[str]
) -> list[tuple[str, OperationField]] | None:
    """Greedy cover of the selection: None when some part no subgraph serves."""
    remaining = list(field.children)
    parts: list[tuple[str, OperationField]] = []
    while remaining:
        served = {
            graph: [
                child
                for child in remaining
                if fetches_from(walker, graph, replace(field, children=(child,)), used) < _UNSERVED
            ]
            for graph in candidates
        }
        graph = max(candidates, key=lambda g: len(served[g]))
        if not served[graph]:
            return None
        parts.append((graph, replace(field, children=tuple(served[graph]))))
        taken = {id(child) for child in served[graph]}
        remaining = [child for child in remaining if id(child) not in taken]
    return parts
