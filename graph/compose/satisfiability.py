"""Satisfiability: every field a client may select can be reached from where its parent comes from.

Walks the supergraph from its root fields. A position is a field of the supergraph (the edge a
client follows, `Review.author`) with the subgraphs its objects may come from; each field of
the position's type is planned from each of those subgraphs by the query planner's own walker,
so composition refuses exactly what the router could not plan. A field is reported when no
subgraph of its position reaches it (shareable parents may take another subgraph).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from graphql import (
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    get_named_type,
    is_abstract_type,
)

from graph.planner.errors import PlannerError
from graph.planner.jump_choice import MAX_TRIAL_DEPTH
from graph.planner.operation import NormalizedOperation, OperationField
from graph.planner.walk import Position, Provided, Walker, provided_tree
from graph.supergraph.model import Supergraph

Edge = tuple[str, str]  # (parent type, field): where a client's selection steps
_TYPENAME = OperationField(
    response_key="__typename",
    name="__typename",
    alias=None,
    arguments=(),
    parent_type="",
    type=GraphQLNonNull(GraphQLString),
    applies_to=None,
    children=(),
)


@dataclass(slots=True)
class _Arrival:
    """The subgraphs objects at an edge may come from, with what each was @provided."""

    graphs: dict[str, Provided | None] = field(default_factory=dict)


def unreachable_fields(supergraph: Supergraph) -> list[str]:
    """One message per field no subgraph can reach along some path from a root field."""
    arrivals: dict[Edge, _Arrival] = {}
    queue: deque[tuple[Edge, str]] = deque()
    problems: dict[Edge, str] = {}
    for root_name in supergraph.root_types.values():
        arrivals[("", root_name)] = _Arrival(dict.fromkeys(supergraph.subgraphs))
        queue.append((("", root_name), root_name))
    while queue:
        edge, type_name = queue.popleft()
        for child_edge, child_type, graph, provided in _steps(
            supergraph, edge, type_name, arrivals[edge], problems
        ):
            arrival = arrivals.setdefault(child_edge, _Arrival())
            if graph in arrival.graphs:
                continue
            arrival.graphs[graph] = provided
            queue.append((child_edge, child_type))
    return list(problems.values())


def _steps(
    supergraph: Supergraph,
    edge: Edge,
    type_name: str,
    arrival: _Arrival,
    problems: dict[Edge, str],
) -> list[tuple[Edge, str, str, Provided | None]]:
    """The edges below `edge`, each with the subgraph its objects come from; records a problem
    for a field no subgraph of `arrival` reaches."""
    schema = supergraph.api_schema
    named = schema.get_type(type_name)
    assert named is not None
    concrete = (
        [t.name for t in schema.get_possible_types(named)]
        if is_abstract_type(named)
        else [type_name]
    )
    fields: list[tuple[str, str, GraphQLOutputType, frozenset[str] | None]] = []
    if isinstance(named, GraphQLInterfaceType):
        fields += [(type_name, n, f.type, None) for n, f in named.fields.items()]
    for object_name in concrete:
        object_type = schema.get_type(object_name)
        assert isinstance(object_type, GraphQLObjectType)
        for name, definition in object_type.fields.items():
            if isinstance(named, GraphQLInterfaceType) and name in named.fields:
                continue
            applies = frozenset({object_name}) if object_name != type_name else None
            fields.append((object_name, name, definition.type, applies))
    steps = []
    for parent, name, field_type, applies_to in fields:
        child_type = get_named_type(field_type).name
        composite = isinstance(get_named_type(field_type), GraphQLObjectType) or is_abstract_type(
            get_named_type(field_type)
        )
        selected = OperationField(
            response_key=name,
            name=name,
            alias=None,
            arguments=(),
            parent_type=parent,
            type=field_type,
            applies_to=applies_to,
            children=(_TYPENAME,) if composite else (),
        )
        reasons = []
        for graph, provided in arrival.graphs.items():
            landed = _landing(supergraph, type_name, selected, graph, provided)
            if isinstance(landed, str):
                reasons.append((graph, landed))
                continue
            if composite:
                steps.append(((parent, name), child_type, landed[0], landed[1]))
        if len(reasons) == len(arrival.graphs) and reasons:
            entered = _reentered(supergraph, edge, parent, name)
            if entered is not None:
                if composite:
                    steps.append(((parent, name), child_type, entered, None))
                continue
            graphs = " nor ".join(f'"{g}"' for g, _ in reasons)
            problems.setdefault(
                (parent, name),
                f'The field "{parent}.{name}" cannot be reached from subgraph {graphs} (after '
                f'"{".".join(e for e in edge if e)}"): {reasons[0][1]}',
            )
    return steps


def _reentered(supergraph: Supergraph, edge: Edge, type_name: str, name: str) -> str | None:
    """A subgraph resolving the field that led here on an entity it can be entered by, and
    `type_name.name` too: the planner re-enters the parent there (keyless values)."""
    parent, via = edge
    info = supergraph.types.get(parent)
    if not parent or info is None:
        return None
    for graph in supergraph.graphs_resolving(parent, via):
        in_graph = info.graphs.get(graph)
        keyed = in_graph is not None and any(k.resolvable for k in in_graph.keys)
        if keyed and supergraph.resolves(type_name, name, graph):
            return graph
    return None


def _landing(
    supergraph: Supergraph,
    type_name: str,
    selected: OperationField,
    graph: str,
    provided: Provided | None,
) -> tuple[str, Provided | None] | str:
    """The subgraph (and what it @provides below) where `selected` is resolved when its parent
    comes from `graph`; or why it cannot be."""
    problem = ""
    # objects arriving by a plain field do not satisfy @requires; by an entity jump they do
    for requires_satisfied in (False, True):
        operation = NormalizedOperation("query", None, type_name, {}, ())
        # reachability only: the greedy choice of jump is enough, no trial walks
        walker = Walker(supergraph, operation, trial_depth=MAX_TRIAL_DEPTH)
        group = walker.fetch_graph.new_group(graph, (), entity=False, depends_on=[])
        position = Position(group, group.selections, (), provided, requires_satisfied)
        try:
            walker.plan_fields(position, type_name, [selected])
        except PlannerError as error:
            problem = str(error)
            continue
        groups = walker.fetch_graph.groups
        if len(groups) > 1:
            return groups[-1].subgraph, None
        below = (provided or {}).get(selected.name)
        in_graph = supergraph.field_in(selected.parent_type, selected.name, graph)
        if in_graph is not None and in_graph.provides:
            below = {**(below or {}), **provided_tree(in_graph.provides)}
        return graph, below
    return problem
