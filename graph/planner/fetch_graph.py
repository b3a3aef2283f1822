"""The fetch graph: one group per subgraph request, with the groups it must wait for.

Selections are mutable while the walk adds fields; `freeze` turns them into plan records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from graphql import ArgumentNode, print_ast

from graph.planner.errors import FetchGraphError
from graph.planner.nodes import ContextRead, FieldSelection, InlineFragment, Selection
from graph.planner.operation import Conditions, OperationField


def same_arguments(first: tuple[ArgumentNode, ...], second: tuple[ArgumentNode, ...]) -> bool:
    if not first and not second:  # the common case, without printing
        return True
    if len(first) != len(second):
        return False
    return sorted(print_ast(a) for a in first) == sorted(print_ast(a) for a in second)


@dataclass(slots=True)
class FieldSel:
    name: str
    alias: str | None = None
    arguments: tuple[ArgumentNode, ...] = ()
    selections: SelectionSet | None = None
    # forwarded to the subgraph as @skip/@include; merging keeps only the shared ones
    conditions: Conditions = frozenset()
    graph_type: str | None = None  # the field's type in the subgraph asked (`Float!`)
    client_key: str | None = None  # set with an internal alias: the key the response restores


def print_conditions(conditions: Conditions) -> str:
    return "".join(
        f" @{'include' if include_when else 'skip'}(if: ${variable})"
        for variable, include_when in sorted(conditions)
    )


@dataclass(slots=True)
class FragmentSel:
    type_condition: str
    selections: SelectionSet


@dataclass(slots=True)
class SelectionSet:
    """Ordered selections; a field is merged with an earlier one of the same response key."""

    items: dict[str, FieldSel | FragmentSel] = field(default_factory=dict)

    def add_field(
        self,
        name: str,
        alias: str | None = None,
        arguments: tuple[ArgumentNode, ...] = (),
        composite: bool = False,
        conditions: Conditions = frozenset(),
        graph_type: str | None = None,
    ) -> FieldSel:
        key = alias or name
        existing = self.items.get(key)
        if isinstance(existing, FieldSel):
            if existing.name != name or not same_arguments(existing.arguments, arguments):
                raise FetchGraphError(
                    f'The response key "{key}" is used for both "{existing.name}" and "{name}" '
                    "in one subgraph request (an alias shadows a key or @requires field the "
                    "router needs); rename the alias."
                )
            if composite and existing.selections is None:
                existing.selections = SelectionSet()
            existing.conditions &= conditions
            return existing
        added = FieldSel(
            name, alias, arguments, SelectionSet() if composite else None, conditions, graph_type
        )
        self.items[key] = added
        return added

    def fragment(self, type_condition: str) -> SelectionSet:
        key = f"... on {type_condition}"
        existing = self.items.get(key)
        if isinstance(existing, FragmentSel):
            return existing.selections
        created = FragmentSel(type_condition, SelectionSet())
        self.items[key] = created
        return created.selections

    def merge(self, other: SelectionSet) -> None:
        for item in other.items.values():
            if isinstance(item, FragmentSel):
                self.fragment(item.type_condition).merge(item.selections)
                continue
            target = self.add_field(
                item.name,
                item.alias,
                item.arguments,
                composite=item.selections is not None,
                conditions=item.conditions,
                graph_type=item.graph_type,
            )
            target.client_key = target.client_key or item.client_key
            if item.selections is not None and target.selections is not None:
                target.selections.merge(item.selections)

    def freeze(self) -> tuple[Selection, ...]:
        frozen: list[Selection] = []
        for item in self.items.values():
            if isinstance(item, FragmentSel):
                if item.selections.items:
                    frozen.append(InlineFragment(item.type_condition, item.selections.freeze()))
                continue
            arguments = ""
            if item.arguments:
                arguments = "(" + ", ".join(print_ast(a) for a in item.arguments) + ")"
            children = item.selections.freeze() if item.selections is not None else None
            directives = print_conditions(item.conditions)
            frozen.append(
                FieldSelection(
                    item.name, item.alias, arguments, children, directives, item.client_key
                )
            )
        return tuple(frozen)


@dataclass(eq=False, slots=True)
class FetchGroup:
    id: int
    subgraph: str
    path: tuple[str, ...]  # where its results merge; () for a root fetch
    entity: bool
    selections: SelectionSet = field(default_factory=SelectionSet)
    requires: SelectionSet = field(default_factory=SelectionSet)
    depends_on: list[FetchGroup] = field(default_factory=list)
    root_order: int = 0  # position among root fetches (mutations run in this order)
    # object type -> the interface name its representation carries (@interfaceObject targets)
    typename_rewrites: dict[str, str] = field(default_factory=dict)
    # @fromContext: where each variable's value is read, and the variables' types
    context_reads: list[ContextRead] = field(default_factory=list)
    context_variables: dict[str, str] = field(default_factory=dict)
    # the plan runs this fetch only when these hold (None until a field is added)
    conditions: Conditions | None = None

    def restrict(self, conditions: Conditions) -> None:
        """A field needing `conditions` lives here: run when any of its fields is needed."""
        self.conditions = conditions if self.conditions is None else self.conditions & conditions


@dataclass(slots=True)
class FetchGraph:
    groups: list[FetchGroup] = field(default_factory=list)

    def new_group(
        self, subgraph: str, path: tuple[str, ...], entity: bool, depends_on: list[FetchGroup]
    ) -> FetchGroup:
        group = FetchGroup(
            id=max((g.id for g in self.groups), default=-1) + 1,
            subgraph=subgraph,
            path=path,
            entity=entity,
            depends_on=list(dict.fromkeys(depends_on)),
        )
        self.groups.append(group)
        return group

    def depends_transitively(self, group: FetchGroup, on: FetchGroup) -> bool:
        stack, seen = list(group.depends_on), set()
        while stack:
            current = stack.pop()
            if current is on:
                return True
            if current.id not in seen:
                seen.add(current.id)
                stack.extend(current.depends_on)
        return False


def unshadowed(target: SelectionSet, field: OperationField) -> OperationField:
    """`field`, aliased when the selection already uses its name for another field or other
    arguments (a client's `weight` beside a required `weight(unit: "lb")`)."""
    alias = None
    while True:
        taken = target.items.get(alias or field.name)
        if not isinstance(taken, FieldSel) or (
            taken.name == field.name and same_arguments(taken.arguments, field.arguments)
        ):
            break
        alias = f"{alias or field.name}_"
    if alias is None:
        return field
    return replace(field, alias=alias, response_key=alias)
