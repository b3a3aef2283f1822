"""Optimisation passes, one per module, each returning whether it changed anything.

`optimise_fetch_graph` and `optimise_plan` re-run their passes until none changes anything.
"""

from __future__ import annotations

from collections.abc import Callable

from graph.planner.fetch_graph import FetchGraph
from graph.planner.nodes import PlanNode
from graph.planner.passes.alias_conflicts import alias_conflicts
from graph.planner.passes.flatten_nodes import flatten_nodes
from graph.planner.passes.merge_siblings import merge_siblings
from graph.planner.passes.prune_dependencies import prune_dependencies

FETCH_GRAPH_PASSES: tuple[Callable[[FetchGraph], bool], ...] = (
    merge_siblings,
    prune_dependencies,
    alias_conflicts,
)
_MAX_ROUNDS = 64


def optimise_fetch_graph(fetch_graph: FetchGraph) -> int:
    """Run the fetch-graph passes to a fixed point; returns how many rounds changed something."""
    rounds = 0
    while rounds < _MAX_ROUNDS:
        changed = False
        for fetch_graph_pass in FETCH_GRAPH_PASSES:
            changed = fetch_graph_pass(fetch_graph) or changed
        if not changed:
            break
        rounds += 1
    return rounds


def optimise_plan(node: PlanNode) -> PlanNode:
    for _ in range(_MAX_ROUNDS):
        flattened = flatten_nodes(node)
        if flattened == node:
            break
        node = flattened
    return node
