"""@fromContext arguments: variables the executor fills from the nearest ancestor setting the
context, whose fetch now selects the value (and `__typename`, to tell which type it is).

Every ancestor on the way here that sets the context is a source, nearest first: the executor
takes the first whose object is of a type setting it (a union member, an interface's
implementation) and reads the field its type condition selects there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from graphql import (
    ArgumentNode,
    FieldNode,
    InlineFragmentNode,
    NameNode,
    SelectionSetNode,
    VariableNode,
    parse,
)

from graph.planner.errors import UnsatisfiableFieldError
from graph.planner.fetch_graph import FetchGroup, unshadowed
from graph.planner.nodes import ContextRead, ContextSource, ValueShape
from graph.planner.operation import OperationField

if TYPE_CHECKING:
    from graph.planner.walk import Position, Walker


@dataclass(slots=True)
class ContextReads:
    fields: list[OperationField]  # with the contextual arguments as variables
    reads: list[ContextRead]
    variable_types: dict[str, str]
    scopes: list[FetchGroup]  # the fetches of the ancestors read: the jump waits for them


def context_selection(selection: str) -> SelectionSetNode:
    """A `join__ContextArgument.selection` as a selection set: `{ prop }` as written, bare type
    conditions (`... on A { x } ... on B { y }`) wrapped in braces."""
    text = selection.strip()
    document = parse(text if text.startswith("{") else "{" + text + "}")
    return document.definitions[0].selection_set  # type: ignore[attr-defined]


def read_contexts(
    walker: Walker, position: Position, type_name: str, graph: str, fields: list[OperationField]
) -> ContextReads:
    found = ContextReads([], [], {}, [])
    for field in fields:
        in_graph = walker.supergraph.field_in(type_name, field.name, graph)
        arguments = list(field.arguments)
        for argument in in_graph.context_arguments if in_graph else ():
            scopes = [s for s in position.contexts if s[0] == argument.context]
            if not scopes:
                raise UnsatisfiableFieldError(
                    f'"{type_name}.{field.name}" takes "{argument.name}" from the context '
                    f'"{argument.context}", but it is not selected below an object of a '
                    "type carrying that @context."
                )
            sources: list[ContextSource] = []
            for _, ancestor, ancestor_type in scopes:
                sources += _select(walker, ancestor, ancestor_type, argument.selection)
                found.scopes.append(ancestor.group)
            use = (graph, *position.path, field.response_key, argument.name)
            variable = walker.context_variable(use)
            found.reads.append(ContextRead(variable, tuple(sources)))
            found.variable_types[variable] = argument.type
            arguments.append(_variable_argument(argument.name, variable))
        found.fields.append(replace(field, arguments=tuple(arguments)))
    return found


def _select(
    walker: Walker, ancestor: Position, ancestor_type: str, selection: str
) -> list[ContextSource]:
    """Select the context's value on the ancestor: one source per type condition applying."""
    supergraph = walker.supergraph
    possible = frozenset(supergraph.possible_types(ancestor_type))
    parts: list[tuple[frozenset[str], str, FieldNode]] = []
    for node in context_selection(selection).selections:
        if isinstance(node, FieldNode):
            parts.append((possible, ancestor_type, node))
        elif isinstance(node, InlineFragmentNode) and node.type_condition is not None:
            condition = node.type_condition.name.value
            types = possible & frozenset(supergraph.possible_types(condition))
            inner = [s for s in node.selection_set.selections if isinstance(s, FieldNode)]
            if types and inner:
                parts.append((types, condition, inner[0]))
    ancestor.target.add_field("__typename")
    sources = []
    for types, parent, node in parts:
        (field,) = walker.field_set_of(parent, SelectionSetNode(selections=(node,)))
        field = unshadowed(ancestor.target, field)
        walker.plan_fields(
            ancestor,
            ancestor_type,
            [replace(field, applies_to=types if types != possible else None)],
        )
        sources.append(ContextSource(ancestor.path, types, field.response_key, _shape(field)))
    return sources


def _shape(field: OperationField) -> ValueShape:
    return tuple((child.response_key, _shape(child)) for child in field.children)


def _variable_argument(name: str, variable: str) -> ArgumentNode:
    value = VariableNode(name=NameNode(value=variable))
    return ArgumentNode(name=NameNode(value=name), value=value)
