"""Stage 5, plan: the optimised fetch graph as Fetch/Flatten/Sequence/Parallel nodes."""

from __future__ import annotations

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    print_ast,
)

from graph.planner.fetch_graph import FetchGraph, FetchGroup, SelectionSet
from graph.planner.nodes import (
    Condition,
    Fetch,
    FieldSelection,
    Flatten,
    InlineFragment,
    Parallel,
    PlanNode,
    Selection,
    Sequence,
    Subscription,
)
from graph.planner.operation import Conditions, NormalizedOperation


def build_plan(fetch_graph: FetchGraph, operation: NormalizedOperation) -> PlanNode | None:
    groups = fetch_graph.groups
    if not groups:
        return None
    nodes = {g.id: _node(g, operation) for g in groups}
    guarded = {g.id: _guarded(nodes[g.id], g.conditions or frozenset(), operation) for g in groups}
    roots = sorted((g for g in groups if not g.entity), key=lambda g: g.root_order)
    if operation.kind == "subscription":
        primary = nodes[roots[0].id]
        assert isinstance(primary, Fetch)
        rest = [g for g in groups if g is not roots[0]]
        return Subscription(primary, _dag(rest, guarded, nodes, operation) if rest else None)
    if operation.kind == "mutation":
        return Sequence(
            tuple(_dag(_descendants(root, groups), guarded, nodes, operation) for root in roots)
        )
    return _dag(groups, guarded, nodes, operation)


def _guarded(node: PlanNode, conditions: Conditions, operation: NormalizedOperation) -> PlanNode:
    """`node` inside one Condition per variable it depends on (outermost first, by name)."""
    for variable, include_when in sorted(conditions, reverse=True):
        default = _default(operation, variable)
        if include_when:
            node = Condition(variable, node, None, default)
        else:
            node = Condition(variable, None, node, default)
    return node


def _default(operation: NormalizedOperation, variable: str) -> bool:
    definition = operation.variable_definitions.get(variable)
    value = definition.default_value if definition is not None else None
    return isinstance(value, BooleanValueNode) and value.value


def _descendants(root: FetchGroup, groups: list[FetchGroup]) -> list[FetchGroup]:
    found = [root]
    for group in groups:  # groups are created after what they depend on
        if group is not root and any(d in found for d in group.depends_on):
            found.append(group)
    return found


def _dag(
    groups: list[FetchGroup],
    guarded: dict[int, PlanNode],
    nodes: dict[int, PlanNode],
    operation: NormalizedOperation,
) -> PlanNode:
    """`guarded` are the nodes inside their Conditions; below a parent in a Sequence a node
    needs only the conditions its parent does not already hold."""
    members = {g.id: g for g in groups}
    deps = {g.id: [d for d in g.depends_on if d.id in members] for g in groups}
    if all(len(d) <= 1 for d in deps.values()):
        children: dict[int, list[FetchGroup]] = {g.id: [] for g in groups}
        for group in groups:
            for dependency in deps[group.id]:
                children[dependency.id].append(group)

        def tree(group: FetchGroup, held: Conditions) -> PlanNode:
            own = group.conditions or frozenset()
            below = [tree(c, own | held) for c in children[group.id]]
            node = nodes[group.id]
            if below:
                after = below[0] if len(below) == 1 else Parallel(tuple(below))
                node = Sequence((node, after))
            return _guarded(node, own - held, operation)

        tops = [tree(g, frozenset()) for g in groups if not deps[g.id]]
        return tops[0] if len(tops) == 1 else Parallel(tuple(tops))
    levels: dict[int, int] = {}
    for group in groups:
        levels[group.id] = 1 + max((levels[d.id] for d in deps[group.id]), default=-1)
    stages = []
    for level in range(max(levels.values()) + 1):
        stage = [guarded[g.id] for g in groups if levels[g.id] == level]
        stages.append(stage[0] if len(stage) == 1 else Parallel(tuple(stage)))
    return Sequence(tuple(stages))


def _node(group: FetchGroup, operation: NormalizedOperation) -> PlanNode:
    selections = group.selections.freeze()
    found = sorted(_variables(group.selections))
    usages = [v for v in found if v not in group.context_variables]
    definitions = [
        f"${v}: {group.context_variables[v]}"
        if v in group.context_variables
        else print_ast(operation.variable_definitions[v])
        for v in found
    ]
    body = _compact(selections)
    if group.entity:
        declared = ", ".join(["$representations: [_Any!]!", *definitions])
        text = f"query({declared}) {{ _entities(representations: $representations) {body} }}"
        fetch = Fetch(
            service=group.subgraph,
            operation=text,
            selections=selections,
            requires=group.requires.freeze(),
            variable_usages=tuple(usages),
            typename_rewrites=tuple(sorted(group.typename_rewrites.items())),
            internal_aliases=_has_internal_aliases(selections),
            context_reads=tuple(group.context_reads),
        )
        return Flatten(group.path, fetch)
    kind = operation.kind
    name = f" {operation.name}__{group.subgraph}__{group.id}" if operation.name else ""
    declared = f"({', '.join(definitions)})" if definitions else ""
    head = f"{kind}{name}{declared}" if name or declared or kind != "query" else ""
    return Fetch(
        service=group.subgraph,
        operation=f"{head} {body}".strip(),
        selections=selections,
        variable_usages=tuple(usages),
        operation_kind=kind,
        internal_aliases=_has_internal_aliases(selections),
    )


def _has_internal_aliases(selections: tuple[Selection, ...]) -> bool:
    for selection in selections:
        if isinstance(selection, InlineFragment):
            if _has_internal_aliases(selection.selections):
                return True
        elif selection.client_key is not None or (
            selection.selections is not None and _has_internal_aliases(selection.selections)
        ):
            return True
    return False


def _variables(selection_set: SelectionSet) -> set[str]:
    found: set[str] = set()
    for item in selection_set.items.values():
        for argument in getattr(item, "arguments", ()):
            found |= _value_variables(argument)
        found |= {variable for variable, _ in getattr(item, "conditions", ())}
        if item.selections is not None:
            found |= _variables(item.selections)
    return found


def _value_variables(node: ArgumentNode | ValueNode) -> set[str]:
    value = node.value if isinstance(node, ArgumentNode) else node
    if isinstance(value, VariableNode):
        return {value.name.value}
    if isinstance(value, ListValueNode):
        return {name for v in value.values for name in _value_variables(v)}
    if isinstance(value, ObjectValueNode):
        return {name for f in value.fields for name in _value_variables(f.value)}
    return set()


def _compact(selections: tuple[Selection, ...]) -> str:
    parts = []
    for selection in selections:
        if isinstance(selection, InlineFragment):
            parts.append(f"... on {selection.type_condition} {_compact(selection.selections)}")
            continue
        assert isinstance(selection, FieldSelection)
        text = f"{selection.alias}: " if selection.alias else ""
        text += selection.name + selection.arguments + selection.directives
        if selection.selections is not None:
            text += " " + _compact(selection.selections)
        parts.append(text)
    return "{ " + " ".join(parts) + " }"
