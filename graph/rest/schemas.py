"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) derived from GraphQL types.

Inputs come from an operation's variable types; outputs from the selection set the operation
makes on the result type, so a schema lists exactly the fields the endpoint returns. Field and
argument descriptions are carried over from the GraphQL schema; nullability is respected
(`"type": [..., "null"]`).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    SelectionSetNode,
    Undefined,
    value_from_ast_untyped,
)

JsonSchema = dict[str, Any]

INT32 = 2**31 - 1
SCALARS: dict[str, JsonSchema] = {
    "Int": {"type": "integer", "minimum": -INT32 - 1, "maximum": INT32},
    "Float": {"type": "number"},
    "String": {"type": "string"},
    "Boolean": {"type": "boolean"},
    "ID": {"type": "string"},
    "Date": {"type": "string", "format": "date"},
    "DateTime": {"type": "string", "format": "date-time"},
    # Column scalars (subgraphs/columns.py): one GraphQL value, a plain JSON array on the wire.
    "FloatColumn": {"type": "array", "items": {"type": "number"}},
    "BooleanColumn": {"type": "array", "items": {"type": "boolean"}},
    "DateColumn": {"type": "array", "items": {"type": "string", "format": "date"}},
}


class SchemaDerivationError(Exception):
    """The operation selects something the REST layer cannot describe (say which)."""


def nullable(schema: JsonSchema) -> JsonSchema:
    """`schema` that also admits null."""
    kind = schema.get("type")
    if isinstance(kind, str):
        widened = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            widened["enum"] = [*schema["enum"], None]
        return widened
    return {"anyOf": [schema, {"type": "null"}]}


def described(schema: JsonSchema, description: str | None) -> JsonSchema:
    return {**schema, "description": description} if description else schema


def scalar_schema(scalar: GraphQLScalarType) -> JsonSchema:
    known = SCALARS.get(scalar.name)
    if known is not None:
        return dict(known)
    return described({}, scalar.description)  # a custom scalar: any JSON value


def input_schema(graphql_type: GraphQLInputType) -> JsonSchema:
    """The JSON Schema of a value of `graphql_type` (a variable or an input field)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _input_non_null(graphql_type.of_type)
    return nullable(_input_non_null(graphql_type))


def _input_non_null(graphql_type: Any) -> JsonSchema:
    if isinstance(graphql_type, GraphQLList):
        return {"type": "array", "items": input_schema(graphql_type.of_type)}
    if isinstance(graphql_type, GraphQLScalarType):
        return scalar_schema(graphql_type)
    if isinstance(graphql_type, GraphQLEnumType):
        return enum_schema(graphql_type)
    if isinstance(graphql_type, GraphQLInputObjectType):
        properties = {}
        required = []
        for name, field in graphql_type.fields.items():
            schema = described(input_schema(field.type), field.description)
            has_default, default = default_of(field)
            if has_default and default is not None:
                schema["default"] = default
            properties[name] = schema
            if isinstance(field.type, GraphQLNonNull) and not has_default:
                required.append(name)
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = sorted(required)
        return described(schema, graphql_type.description)
    raise SchemaDerivationError(f"No JSON Schema for input type {graphql_type}.")


def default_of(field: GraphQLInputField) -> tuple[bool, Any]:
    """Whether the input field has a default, and that default as JSON."""
    default = field.default
    if default is None or default is Undefined:
        return False, None
    if default.literal is not Undefined and default.literal is not None:
        return True, value_from_ast_untyped(default.literal)
    return True, default.value


def enum_schema(enum: GraphQLEnumType) -> JsonSchema:
    values = "; ".join(
        f"{name}: {value.description}" for name, value in enum.values.items() if value.description
    )
    description = " ".join(part for part in (enum.description, values) if part)
    return described({"type": "string", "enum": list(enum.values)}, description or None)


def output_schema(
    schema: GraphQLSchema, graphql_type: GraphQLOutputType, selections: SelectionSetNode | None
) -> JsonSchema:
    """The JSON Schema of the value a field of `graphql_type` resolves to under `selections`."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _output_non_null(schema, graphql_type.of_type, selections)
    return nullable(_output_non_null(schema, graphql_type, selections))


def _output_non_null(
    schema: GraphQLSchema, graphql_type: Any, selections: SelectionSetNode | None
) -> JsonSchema:
    if isinstance(graphql_type, GraphQLList):
        return {"type": "array", "items": output_schema(schema, graphql_type.of_type, selections)}
    if isinstance(graphql_type, GraphQLScalarType):
        return scalar_schema(graphql_type)
    if isinstance(graphql_type, GraphQLEnumType):
        return enum_schema(graphql_type)
    if isinstance(graphql_type, GraphQLObjectType) and selections is not None:
        properties: dict[str, JsonSchema] = {}
        for selection in selections.selections:
            if not isinstance(selection, FieldNode):
                raise SchemaDerivationError(
                    f"Fragments on {graphql_type.name} are not described; select fields directly."
                )
            key = (selection.alias or selection.name).value
            if selection.name.value == "__typename":
                properties[key] = {"type": "string", "const": graphql_type.name}
                continue
            field = graphql_type.fields[selection.name.value]
            properties[key] = described(
                output_schema(schema, field.type, selection.selection_set), field.description
            )
        return described(
            {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
            graphql_type.description,
        )
    raise SchemaDerivationError(f"No JSON Schema for output type {graphql_type}.")
