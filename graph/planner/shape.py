"""The response shape: what the client selected, so the executor can build the final response.

The executor reads it (never the schema) to pick the client's keys in order, resolve type
conditions by `__typename`, and propagate nulls per the GraphQL spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from graphql import (
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
)

from graph.planner.operation import (
    INTROSPECTION_FIELDS,
    Conditions,
    NormalizedOperation,
    OperationField,
)

Wrapper = Literal["non_null", "list"]


@dataclass(frozen=True, slots=True)
class ShapeField:
    response_key: str
    name: str
    parent_type: str
    wrappers: tuple[Wrapper, ...]  # outermost first: `[Int!]!` is non_null, list, non_null
    named_type: str
    abstract: bool
    applies_to: frozenset[str] | None
    children: tuple[ShapeField, ...] | None
    introspection: bool = False
    conditions: Conditions = frozenset()  # @skip/@include on variables; see `for_values`
    # what a client may see: an enum's values, or an abstract type's object types (values and
    # types a subgraph still returns though @inaccessible are nulled with an error)
    allowed: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ResponseShape:
    root_type: str
    fields: tuple[ShapeField, ...]


def _wrappers(type_: GraphQLOutputType) -> tuple[Wrapper, ...]:
    wrappers: list[Wrapper] = []
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        wrappers.append("non_null" if isinstance(type_, GraphQLNonNull) else "list")
        type_ = type_.of_type
    return tuple(wrappers)


def build_shape(operation: NormalizedOperation, schema: GraphQLSchema) -> ResponseShape:
    return ResponseShape(operation.root_type, tuple(_shape(f, schema) for f in operation.fields))


def _shape(field: OperationField, schema: GraphQLSchema) -> ShapeField:
    introspection = field.name in INTROSPECTION_FIELDS
    named = field.named_type
    named_type = schema.get_type(named)
    allowed = None
    if isinstance(named_type, GraphQLEnumType):
        allowed = frozenset(named_type.values)
    elif isinstance(named_type, GraphQLAbstractType):
        allowed = frozenset(t.name for t in schema.get_possible_types(named_type))
    return ShapeField(
        response_key=field.response_key,
        name=field.name,
        parent_type=field.parent_type,
        wrappers=_wrappers(field.type),
        named_type=named,
        abstract=is_abstract_type(named_type),
        applies_to=field.applies_to,
        children=None
        if introspection or not field.children
        else tuple(_shape(c, schema) for c in field.children),
        introspection=introspection,
        conditions=field.conditions,
        allowed=None if introspection else allowed,
    )


def condition_variables(shape: ResponseShape) -> tuple[str, ...]:
    """The variables some @skip/@include of the shape reads, sorted."""
    found: set[str] = set()

    def visit(fields: tuple[ShapeField, ...]) -> None:
        for field in fields:
            found.update(variable for variable, _ in field.conditions)
            visit(field.children or ())

    visit(shape.fields)
    return tuple(sorted(found))


def for_values(shape: ResponseShape, values: Mapping[str, bool]) -> ResponseShape:
    """The shape of one request: fields whose @skip/@include fail for `values` left out."""

    def kept(fields: tuple[ShapeField, ...]) -> tuple[ShapeField, ...]:
        return tuple(
            replace(f, children=kept(f.children)) if f.children is not None else f
            for f in fields
            if all(values.get(variable, False) == include for variable, include in f.conditions)
        )

    return ResponseShape(shape.root_type, kept(shape.fields))
