"""Stage 1, normalise: one operation, fragments inlined, @skip/@include read, types resolved.

Every field records the concrete object types it applies to (`applies_to`, None for all of its
parent's), so later stages never look at fragments again. `@skip`/`@include` with a literal
drop the field here; with a variable they become the field's `conditions`, so one plan serves
every value of the variable (Condition nodes, forwarded directives, a shape pruned per request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeNameMetaFieldDef,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from graph.planner.errors import OperationError

OperationKind = Literal["query", "mutation", "subscription"]
# (variable, the value that includes the field): `@include(if: $a)` is ("a", True),
# `@skip(if: $b)` is ("b", False).
FieldCondition = tuple[str, bool]
Conditions = frozenset[FieldCondition]
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class OperationField:
    response_key: str
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    parent_type: str  # the type the field was selected on (a fragment's condition, or the parent)
    type: GraphQLOutputType
    applies_to: frozenset[str] | None
    children: tuple[OperationField, ...]
    # on the field itself or the fragments around it in its selection set (not its parent's)
    conditions: Conditions = frozenset()

    @property
    def named_type(self) -> str:
        return get_named_type(self.type).name


@dataclass(frozen=True, slots=True)
class NormalizedOperation:
    kind: OperationKind
    name: str | None
    root_type: str
    variable_definitions: dict[str, VariableDefinitionNode]
    fields: tuple[OperationField, ...]


def normalize(
    document: DocumentNode, schema: GraphQLSchema, operation_name: str | None
) -> NormalizedOperation:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        if operation_name:
            raise OperationError(f'Unknown operation named "{operation_name}".')
        raise OperationError("Must provide operation name if query contains multiple operations.")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise OperationError(f"The schema has no {operation.operation.value} type.")
    collector = _Collector(schema, fragments)
    return NormalizedOperation(
        kind=operation.operation.value,
        name=operation.name.value if operation.name else None,
        root_type=root.name,
        variable_definitions=_variable_definitions(operation),
        fields=tuple(collector.collect(operation.selection_set, root, None, frozenset())),
    )


def _variable_definitions(operation: OperationDefinitionNode) -> dict[str, VariableDefinitionNode]:
    return {d.variable.name.value: d for d in operation.variable_definitions or ()}


class _Collector:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    @staticmethod
    def _conditions(node: Any) -> Conditions | None:
        """The variable conditions of `node`'s @skip/@include; None when a literal excludes it."""
        found: set[FieldCondition] = set()
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            include_when = name == "include"
            for argument in directive.arguments or ():
                if argument.name.value != "if":
                    continue
                value = argument.value
                if isinstance(value, VariableNode):
                    found.add((value.name.value, include_when))
                elif isinstance(value, BooleanValueNode) and value.value != include_when:
                    return None
        return frozenset(found)

    def _possible(self, type_: GraphQLCompositeType) -> frozenset[str]:
        if isinstance(type_, GraphQLObjectType):
            return frozenset({type_.name})
        assert isinstance(type_, GraphQLAbstractType)
        return frozenset(t.name for t in self.schema.get_possible_types(type_))

    def collect(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        applies_to: frozenset[str] | None,
        conditions: Conditions,
    ) -> list[OperationField]:
        fields: list[OperationField] = []
        for selection in selection_set.selections:
            own = self._conditions(selection)
            if own is None:
                continue
            if isinstance(selection, FieldNode):
                fields.append(self._field(selection, parent, applies_to, conditions | own))
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition_name: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition
                condition_name = condition.name.value if condition else None
                inner = selection.selection_set
            condition_type = (
                self.schema.get_type(condition_name) if condition_name is not None else parent
            )
            assert isinstance(condition_type, GraphQLObjectType | GraphQLAbstractType)
            narrowed = applies_to
            if condition_type is not parent:
                scope = applies_to if applies_to is not None else self._possible(parent)
                narrowed = scope & self._possible(condition_type)
            fields.extend(self.collect(inner, condition_type, narrowed, conditions | own))
        return fields

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLCompositeType,
        applies_to: frozenset[str] | None,
        conditions: Conditions,
    ) -> OperationField:
        name = node.name.value
        if name == "__typename":
            definition = TypeNameMetaFieldDef
        elif name == "__schema":
            definition = SchemaMetaFieldDef
        elif name == "__type":
            definition = TypeMetaFieldDef
        else:
            assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            definition = parent.fields[name]
        children: list[OperationField] = []
        if node.selection_set is not None and name not in INTROSPECTION_FIELDS:
            named = get_named_type(definition.type)
            assert isinstance(named, GraphQLObjectType | GraphQLAbstractType)
            children = self.collect(node.selection_set, named, None, frozenset())
        return OperationField(
            response_key=node.alias.value if node.alias else name,
            name=name,
            alias=node.alias.value if node.alias else None,
            arguments=tuple(node.arguments or ()),
            parent_type=parent.name,
            type=definition.type,
            applies_to=applies_to,
            children=tuple(children),
            conditions=conditions,
        )
