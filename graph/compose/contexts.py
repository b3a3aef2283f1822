"""@context / @fromContext (Federation 2.8): parse each reference and refuse what cannot run.

`@fromContext(field: "$ctx { prop }")` names a context set with `@context(name: "ctx")` on
object, interface or union types of the same subgraph, and a selection on them: one field
(`{ prop }`), one field with a selection of its own passed as an input object
(`{ prop { id } }`), or one field per type condition (`... on A { x } ... on B { y }`).
The router fills the argument from the nearest ancestor setting the context, so the field's
type must be an entity it can enter (`_entities`) with a resolvable key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace as dc_replace

from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)

from graph.compose.model import Argument, SubgraphSchema, TypeDef
from graph.planner.context_reads import context_selection

_REFERENCE = re.compile(r"^[\s,]*\$[\s,]*([A-Za-z_]\w*)([\s\S]*)$")


def parse_reference(value: str) -> tuple[str, str] | None:
    """`"$ctx { prop }"` as ("ctx", " { prop }"): the selection kept as written after the name,
    as Apollo composition writes it into `join__field(contextArguments:)`."""
    match = _REFERENCE.match(value)
    return (match[1], match[2]) if match else None


def check_contexts(
    subgraph: SubgraphSchema, subgraphs: Sequence[SubgraphSchema], errors: list[str]
) -> None:
    """Errors for each @fromContext of `subgraph` the router could not fill. The selected
    fields may be resolved by other subgraphs (the router fetches them for the ancestor)."""
    view: SubgraphSchema | None = None
    for type_def in subgraph.types.values():
        for field in type_def.fields.values():
            for argument in field.arguments.values():
                if argument.from_context is None:
                    continue
                view = view or _with_fields_of(subgraph, subgraphs)
                problem = _problem(subgraph, view, type_def, argument)
                if problem:
                    where = f'"{type_def.name}.{field.name}({argument.name}:)"'
                    errors.append(f"[{subgraph.name}] @fromContext on {where}: {problem}")


def _with_fields_of(
    subgraph: SubgraphSchema, subgraphs: Sequence[SubgraphSchema]
) -> SubgraphSchema:
    """`subgraph` with every type and field the others define added (its own win)."""
    types: dict[str, TypeDef] = {}
    for other in [*subgraphs, subgraph]:  # `subgraph` last: its definitions win
        for name, type_def in other.types.items():
            merged = types.get(name)
            fields = {**(merged.fields if merged else {}), **type_def.fields}
            types[name] = dc_replace(type_def, fields=fields)
    return dc_replace(subgraph, types=types)


def _problem(
    subgraph: SubgraphSchema, view: SubgraphSchema, holder: TypeDef, argument: Argument
) -> str | None:
    assert argument.from_context is not None
    reference = parse_reference(argument.from_context)
    if reference is None:
        return (
            f'"{argument.from_context}" does not name a context; write "$name {{ field }}" '
            "with the name of a @context."
        )
    context, selection = reference
    setters = [t for t in subgraph.types.values() if context in t.contexts]
    if not setters:
        return f'the context "{context}" is never set; add @context(name: "{context}") to a type.'
    if argument.default not in (None, "null"):  # Strawberry prints `= null` for optionals
        return "a contextual argument cannot have a default value; remove it."
    if holder.kind != "object" or not any(k.resolvable for k in holder.keys):
        return (
            f'"{holder.name}" has no resolvable @key, and the router passes context values '
            f'only in `_entities` calls; add a resolvable @key to "{holder.name}".'
        )
    try:
        selected = context_selection(selection)
    except GraphQLError as error:
        return f'the selection "{selection.strip()}" does not parse: {error.message}'
    for setter in setters:
        if setter.interface_object:
            return (
                f'the context "{context}" is set on "{setter.name}", an @interfaceObject; set '
                "it on the interface where it is defined."
            )
        problem = _selection_problem(view, view.types[setter.name], selected, argument.type)
        if problem:
            return f'the selection "{selection.strip()}" on "{setter.name}" {problem}'
    return None


def _selection_problem(
    subgraph: SubgraphSchema, setter: TypeDef, selected: SelectionSetNode, argument_type: str
) -> str | None:
    """Why `selected` cannot give a value for objects of `setter` (one field, for every type
    condition that applies; no aliases or directives), or None."""
    fragments = [s for s in selected.selections if isinstance(s, InlineFragmentNode)]
    fields = [s for s in selected.selections if isinstance(s, FieldNode)]
    if len(fragments) + len(fields) != len(selected.selections):
        return "uses a named fragment; write inline fragments (`... on Type { field }`)."
    if fields and fragments:
        return "mixes fields and type conditions; write one or the other."
    if fields:
        if setter.kind == "union":
            return "selects a field on a union; select it per member (`... on Member { field }`)."
        return _field_problem(subgraph, setter, fields, argument_type)
    possible = _possible(subgraph, setter)
    matched = False
    for fragment in fragments:
        if fragment.directives:
            return "uses a directive; directives are not allowed in a context selection."
        if fragment.type_condition is None:
            return "has an inline fragment without a type condition; name the type."
        condition = subgraph.types.get(fragment.type_condition.name.value)
        if condition is None:
            return f'names type "{fragment.type_condition.name.value}", which is not defined.'
        if not possible & _possible(subgraph, condition):
            continue
        matched = True
        inner = [s for s in fragment.selection_set.selections if isinstance(s, FieldNode)]
        if len(inner) != len(fragment.selection_set.selections):
            return "nests fragments in a type condition; select one field per type condition."
        problem = _field_problem(subgraph, condition, inner, argument_type)
        if problem:
            return problem
    if not matched:
        return "has no type condition matching it; add `... on Type { field }` for it."
    return None


def _field_problem(
    subgraph: SubgraphSchema, parent: TypeDef, fields: list[FieldNode], argument_type: str
) -> str | None:
    if len(fields) != 1:
        return "selects more than one field; select exactly one (nest fields for an input)."
    (field,) = fields
    if field.alias is not None or field.directives:
        return "uses an alias or a directive; neither is allowed in a context selection."
    if field.arguments:
        return "passes arguments; select a field without arguments."
    found = parent.fields.get(field.name.value)
    if found is None:
        return f'names "{parent.name}.{field.name.value}", which is not defined.'
    return _value_problem(subgraph, found.type, field.selection_set, argument_type)


def _value_problem(
    subgraph: SubgraphSchema, output: str, selected: SelectionSetNode | None, input_type: str
) -> str | None:
    """Whether a value of type `output` selected by `selected` can be passed as `input_type`."""
    if _lists(output) != _lists(input_type):
        return f'gives a "{output}" where the argument takes "{input_type}".'
    if input_type.endswith("!") and not output.endswith("!"):
        return f'may give null ("{output}") where the argument takes "{input_type}".'
    output_name, input_name = output.strip("[]!"), input_type.strip("[]!")
    if selected is None:
        if output_name != input_name and not {output_name, input_name} <= {"ID", "String"}:
            return f'gives a "{output}" where the argument takes "{input_type}".'
        return None
    target = subgraph.types.get(input_name)
    source = subgraph.types.get(output_name)
    if target is None or target.kind != "input" or source is None:
        return (
            f'selects fields of "{output_name}" but the argument takes "{input_type}", '
            "not an input type."
        )
    for node in selected.selections:
        if not isinstance(node, FieldNode) or node.alias is not None or node.directives:
            return "nests a fragment, an alias or a directive; select plain fields."
        name = node.name.value
        if name not in source.fields or name not in target.fields:
            return f'selects "{output_name}.{name}", which the input "{input_name}" lacks.'
        problem = _value_problem(
            subgraph, source.fields[name].type, node.selection_set, target.fields[name].type
        )
        if problem:
            return problem
    missing = [
        n
        for n, f in target.fields.items()
        if f.type.endswith("!") and f.default is None and n not in _names(selected)
    ]
    if missing:
        return f'leaves out "{missing[0]}", which the input "{input_name}" requires.'
    return None


def _names(selected: SelectionSetNode) -> set[str]:
    return {s.name.value for s in selected.selections if isinstance(s, FieldNode)}


def _lists(type_ref: str) -> int:
    return type_ref.count("[")


def _possible(subgraph: SubgraphSchema, type_def: TypeDef) -> frozenset[str]:
    if type_def.kind == "object":
        return frozenset({type_def.name})
    if type_def.kind == "union":
        return frozenset(type_def.members)
    return frozenset(
        t.name
        for t in subgraph.types.values()
        if t.kind == "object" and type_def.name in t.interfaces
    )
