"""`@key`/`@requires`/`@provides` field sets: parse them and check they name real fields."""

from __future__ import annotations

from graphql import FieldNode, GraphQLSyntaxError, InlineFragmentNode, SelectionSetNode, parse

from graph.compose.model import SubgraphSchema
from graph.compose.types import named_type


def parse_field_set(fields: str) -> SelectionSetNode:
    operation = parse("{" + fields + "}").definitions[0]
    return operation.selection_set  # type: ignore[attr-defined]


def top_level_names(fields: str, *, leaves_only: bool = False) -> set[str]:
    """First-level field names; with `leaves_only`, those without a sub-selection."""
    try:
        selection_set = parse_field_set(fields)
    except GraphQLSyntaxError:
        return set()
    return {
        sel.name.value
        for sel in selection_set.selections
        if isinstance(sel, FieldNode) and not (leaves_only and sel.selection_set)
    }


def missing_fields(subgraph: SubgraphSchema, type_name: str, fields: str) -> list[str]:
    """`Type.field` for each field of `fields` that `type_name` does not define in `subgraph`."""
    try:
        selection_set = parse_field_set(fields)
    except GraphQLSyntaxError as error:
        return [f"(unparsable field set: {error.message})"]
    missing: list[str] = []
    _walk(subgraph, type_name, selection_set, missing)
    return missing


def _walk(
    subgraph: SubgraphSchema, type_name: str, selection_set: SelectionSetNode, missing: list[str]
) -> None:
    type_def = subgraph.types.get(type_name)
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            _walk(
                subgraph,
                condition.name.value if condition else type_name,
                selection.selection_set,
                missing,
            )
            continue
        if not isinstance(selection, FieldNode) or selection.name.value == "__typename":
            continue
        field = type_def.fields.get(selection.name.value) if type_def else None
        if field is None:
            missing.append(f"{type_name}.{selection.name.value}")
        elif selection.selection_set is not None:
            _walk(subgraph, named_type(field.type), selection.selection_set, missing)
