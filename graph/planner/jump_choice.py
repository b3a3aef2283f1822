"""Choosing entity jumps by trial walks: the fewest fetches, then the shortest chain of them.

The greedy choice (`jump_targets`) sends each field to the subgraph serving most of the fields
left; it cannot see what a choice costs further down (a nested field the chosen subgraph lacks
is one more, sequential fetch) nor what @provides saves there. When some field could go to
several subgraphs, each way of assigning the fields is walked on a fresh fetch graph (the
remaining selection included) and costed by its fetches after the optimisation passes, then by
the longest chain of dependent fetches; the greedy assignment is tried first and keeps ties.

Bounded so planning stays cheap (plans are cached per operation shape anyway): at most
`_MAX_ASSIGNMENTS` assignments per choice, and trial walks nest `MAX_TRIAL_DEPTH` deep (deeper
choices inside a trial are greedy; a walker made that deep is greedy throughout).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import product
from typing import TYPE_CHECKING

from graph.planner.choose import jump_options
from graph.planner.errors import PlannerError
from graph.planner.fetch_graph import FetchGraph
from graph.planner.operation import OperationField
from graph.planner.passes import optimise_fetch_graph
from graph.supergraph.model import EntityKey

if TYPE_CHECKING:
    from graph.planner.walk import Position, Walker

Target = tuple[str, str]  # (subgraph, the entity type it knows the objects as)
Assignment = dict[Target, list[OperationField]]

_MAX_ASSIGNMENTS = 8
MAX_TRIAL_DEPTH = 2


def cheapest_jumps(
    walker: Walker,
    position: Position,
    type_name: str,
    fields: list[OperationField],
    greedy: Assignment,
    keys: dict[Target, EntityKey | None],
) -> Assignment:
    """`greedy`, or another assignment of `fields` to jump targets that a trial walk finds
    cheaper (fewer fetches, then fewer sequential ones)."""
    if walker.trial_depth >= MAX_TRIAL_DEPTH:
        return greedy
    options = jump_options(
        walker.supergraph, type_name, fields, lambda g, t: keys.get((g, t)) is not None
    )
    choices = [options[id(f)] for f in fields]
    count = 1
    for choice in choices:
        count *= max(len(choice), 1)
    if count == 1 or count > _MAX_ASSIGNMENTS:
        return greedy
    candidates = [greedy]
    for combination in product(*choices):
        assignment: Assignment = {}
        for field, target in zip(fields, combination, strict=True):
            assignment.setdefault(target, []).append(field)
        if not any(_same(assignment, other) for other in candidates):
            candidates.append(assignment)
    best, best_cost = greedy, _cost(walker, position, type_name, greedy, keys)
    for candidate in candidates[1:]:
        cost = _cost(walker, position, type_name, candidate, keys)
        if cost is not None and (best_cost is None or cost < best_cost):
            best, best_cost = candidate, cost
    return best


def _same(first: Assignment, second: Assignment) -> bool:
    def ids(assignment: Assignment) -> dict[Target, set[int]]:
        return {target: {id(f) for f in served} for target, served in assignment.items()}

    return ids(first) == ids(second)


def _cost(
    walker: Walker,
    position: Position,
    type_name: str,
    assignment: Assignment,
    keys: dict[Target, EntityKey | None],
) -> tuple[int, int] | None:
    """(fetches, longest chain of dependent fetches) of `assignment` walked on a fresh fetch
    graph from a copy of the current fetch; None when it cannot be planned."""
    from graph.planner.walk import Walker

    trial = Walker(walker.supergraph, walker.operation, trial_depth=walker.trial_depth + 1)
    group = trial.fetch_graph.new_group(
        position.group.subgraph, position.path, entity=position.group.entity, depends_on=[]
    )
    start = replace(position, group=group, target=group.selections)
    try:
        for (graph, entity_type), served in assignment.items():
            key = keys[graph, entity_type]
            assert key is not None
            trial.jump(start, type_name, graph, entity_type, served, key)
        optimise_fetch_graph(trial.fetch_graph)
    except PlannerError:  # this assignment cannot be planned (or clashes): not a candidate
        return None
    return len(trial.fetch_graph.groups), _longest_chain(trial.fetch_graph)


def _longest_chain(fetch_graph: FetchGraph) -> int:
    inside = {id(group) for group in fetch_graph.groups}
    lengths: dict[int, int] = {}

    def length(group_id: int) -> int:
        if group_id not in lengths:
            group = by_id[group_id]
            lengths[group_id] = 1 + max(
                (length(id(d)) for d in group.depends_on if id(d) in inside), default=0
            )
        return lengths[group_id]

    by_id = {id(group): group for group in fetch_graph.groups}
    return max((length(group_id) for group_id in inside), default=0)
