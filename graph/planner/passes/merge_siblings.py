"""Pass: entity fetches to the same subgraph at the same path become one `_entities` call."""

from __future__ import annotations

import copy

from graph.planner.errors import FetchGraphError
from graph.planner.fetch_graph import FetchGraph, FetchGroup
from graph.planner.nodes import ContextRead
from graph.planner.requirements import representations_agree


def merge_siblings(fetch_graph: FetchGraph) -> bool:
    groups = fetch_graph.groups
    for index, first in enumerate(groups):
        for second in groups[index + 1 :]:
            if _mergeable(fetch_graph, first, second):
                _merge(fetch_graph, first, second)
                return True
    return False


def _mergeable(fetch_graph: FetchGraph, first: FetchGroup, second: FetchGroup) -> bool:
    return (
        _same_variables(first, second)  # @fromContext values: the calls are split by them
        and first.entity
        and second.entity
        and first.subgraph == second.subgraph
        and first.path == second.path
        and not fetch_graph.depends_transitively(first, second)
        and not fetch_graph.depends_transitively(second, first)
        and representations_agree(first.requires, second.requires)
        and _same_fields_if_rewritten(first, second)
        and _selections_agree(first, second)
    )


def _selections_agree(first: FetchGroup, second: FetchGroup) -> bool:
    """No response key would name two different fields (`label(upper: true)` from one type
    condition, `label` from another): those stay two calls."""
    try:
        copy.deepcopy(first.selections).merge(second.selections)
    except FetchGraphError:
        return False
    return True


def _same_variables(first: FetchGroup, second: FetchGroup) -> bool:
    """Both read the same @fromContext variables (or none): jumps to one field from several
    type conditions (a union's members), each reading its own ancestors."""
    return {r.variable for r in first.context_reads} == {r.variable for r in second.context_reads}


def _merged_reads(first: list[ContextRead], second: list[ContextRead]) -> list[ContextRead]:
    """Each variable's sources from both, nearest ancestor (longest path) first."""
    merged = []
    for read in first:
        other = next(r for r in second if r.variable == read.variable)
        sources = list(dict.fromkeys((*read.sources, *other.sources)))
        sources.sort(key=lambda source: -len(source.path))  # stable: ties keep their order
        merged.append(ContextRead(read.variable, tuple(sources)))
    return merged


def _same_fields_if_rewritten(first: FetchGroup, second: FetchGroup) -> bool:
    """Representations renamed to an @interfaceObject's interface no longer say their type, so
    the subgraph would answer every field for every object: merge only equal selections."""
    if not (first.typename_rewrites or second.typename_rewrites):
        return True
    return first.selections.freeze() == second.selections.freeze()


def _merge(fetch_graph: FetchGraph, kept: FetchGroup, dropped: FetchGroup) -> None:
    kept.selections.merge(dropped.selections)
    kept.requires.merge(dropped.requires)
    kept.typename_rewrites.update(dropped.typename_rewrites)
    kept.context_reads = _merged_reads(kept.context_reads, dropped.context_reads)
    kept.context_variables.update(dropped.context_variables)
    if dropped.conditions is not None:
        kept.restrict(dropped.conditions)
    kept.depends_on = list(dict.fromkeys(d for d in kept.depends_on + dropped.depends_on))
    for group in fetch_graph.groups:
        if dropped in group.depends_on:
            group.depends_on = list(
                dict.fromkeys(kept if d is dropped else d for d in group.depends_on)
            )
    fetch_graph.groups.remove(dropped)
