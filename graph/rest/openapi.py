"""The OpenAPI 3.1 document of the REST API, generated from the mapping and the client schema.

Run `nexus export-openapi` to print it (the document over our own subgraphs is built in
`nexus.assembly.schema_export.openapi_v1`); the v1 snapshot in `tests/rest/openapi_v1.json` is
regenerated with `nexus export-openapi --write`.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    is_input_type,
    type_from_ast,
    value_from_ast,
    visit,
)

from graph.rest.mapping import Endpoint, Operation, RestMapping, Unsupported
from graph.rest.problems import PROBLEM_JSON
from graph.rest.schemas import JsonSchema, SchemaDerivationError, described, input_schema
from graph.rest.schemas import output_schema as derive_output

PAGE_LIMIT_DEFAULT = 500  # items per page when the client names none
PAGE_LIMIT_MAX = 5000
TITLE = "Nexus-Alpha REST API"
VERSION = "1.0.0"

PROBLEM_SCHEMA: JsonSchema = {
    "type": "object",
    "description": "An RFC 9457 problem document, mapped from the GraphQL error's code.",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "The HTTP status, in words."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong and what to do."},
        "code": {"type": "string", "description": "The GraphQL `extensions.code`."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "description": "The GraphQL errors behind the problem.",
            "items": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                    "path": {"type": "array", "items": {"type": ["string", "integer"]}},
                },
                "required": ["message", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
ERROR_STATUSES: dict[str, str] = {
    "400": "The input is invalid (BAD_USER_INPUT); nothing changed.",
    "401": "The credentials were refused (UNAUTHENTICATED).",
    "403": "The caller may not do this (FORBIDDEN).",
    "404": "Nothing exists at this path (NOT_FOUND, or the entity is unknown).",
    "409": "The change conflicts with the current state (CONFLICT).",
    "413": "The request is too large or too expensive for the caller's plan.",
    "429": "The plan's budget is spent (RATE_LIMITED); retry after `Retry-After` seconds.",
    "503": "A store or subgraph is unavailable; retry shortly.",
}
HEADERS: dict[str, JsonSchema] = {
    "ETag": {
        "description": "A hash of the body; send it back in If-None-Match.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "How long the body may be reused, and by whom.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page: `<url>; rel="next"` (RFC 8288).',
        "schema": {"type": "string"},
    },
}


def openapi_document(mapping: RestMapping, schema: GraphQLSchema) -> dict[str, Any]:
    """The OpenAPI 3.1 document serving `mapping` over `schema` (the client schema)."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in mapping.endpoints:
        try:
            operation = _operation(endpoint, schema)
        except SchemaDerivationError as error:
            raise SchemaDerivationError(f"{endpoint.method} {endpoint.path}: {error}") from error
        paths.setdefault(endpoint.route, {})[endpoint.method.lower()] = operation
    for route in mapping.unsupported:
        paths.setdefault(route.route, {})[route.method.lower()] = _unsupported(route)
    tags = sorted({e.tag for e in mapping.endpoints})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Plain REST over the Nexus-Alpha graph: every endpoint runs one persisted "
                "GraphQL operation through the router, so authentication (X-API-Key or "
                "Authorization: Bearer), plans, cost and errors are the GraphQL API's. v1 is "
                "frozen: only additions (endpoints, optional parameters, response fields)."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "responses": {
                status: {
                    "description": text,
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                for status, text in ERROR_STATUSES.items()
            },
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API key"},
            },
        },
        "security": [{}, {"apiKey": []}, {"bearer": []}],
    }


def _operation(endpoint: Endpoint, schema: GraphQLSchema) -> dict[str, Any]:
    variables = _variable_types(endpoint.operation, schema)
    arguments = argument_descriptions(endpoint.operation, schema)
    parameters: list[dict[str, Any]] = []
    for name, variable in endpoint.path_params.items():
        graphql_type, _ = variables[variable]
        parameters.append(
            _parameter(name, "path", graphql_type, arguments.get(variable), required=True)
        )
    for name, variable in endpoint.query_params.items():
        graphql_type, default = variables[variable]
        required = isinstance(graphql_type, GraphQLNonNull) and default is None
        parameter = _parameter(name, "query", graphql_type, arguments.get(variable), required)
        if default is not None:
            parameter["schema"]["default"] = default
        parameters.append(parameter)
    if endpoint.paginate is not None:
        parameters.extend(_page_parameters())
    body_schema = result_schema(endpoint, schema)
    success_headers = {}
    if endpoint.cache != "none":
        success_headers = {name: HEADERS[name] for name in ("ETag", "Cache-Control")}
    if endpoint.paginate is not None:
        success_headers["Link"] = HEADERS["Link"]
    responses: dict[str, Any] = {
        str(endpoint.status): {
            "description": endpoint.summary,
            "content": {"application/json": {"schema": body_schema}},
            **({"headers": success_headers} if success_headers else {}),
        }
    }
    if endpoint.cache != "none":
        responses["304"] = {"description": "Not modified: the If-None-Match ETag still holds."}
    for status in ("400", "401", "403", "404", "413", "429", "503"):
        responses[status] = {"$ref": f"#/components/responses/{status}"}
    if not endpoint.operation.is_query:
        responses["409"] = {"$ref": "#/components/responses/409"}
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "description": (
            f"Runs the persisted GraphQL {endpoint.operation.definition.operation.value} "
            f"`{endpoint.operation.name}`:\n\n```graphql\n{endpoint.operation.text}\n```"
        ),
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": dict(sorted(responses.items())),
    }
    if endpoint.body is not None:
        graphql_type, _ = variables[endpoint.body]
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": input_schema(graphql_type)}},
        }
    return operation


def _parameter(
    name: str, where: str, graphql_type: Any, description: str | None, required: bool
) -> dict[str, Any]:
    inner = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
    schema = input_schema(GraphQLNonNull(inner))  # a parameter is absent, never null
    if where == "path" and schema.get("type") == "string":
        schema["minLength"] = 1
    parameter = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _page_parameters() -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"Most items in a page, 1 to {PAGE_LIMIT_MAX}.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": PAGE_LIMIT_MAX,
                "default": PAGE_LIMIT_DEFAULT,
            },
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "Where the next page starts: the cursor of the previous page's "
            '`Link: <...>; rel="next"` header.',
            "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        },
    ]


def _unsupported(route: Unsupported) -> dict[str, Any]:
    return {
        "operationId": route.method.lower() + re.sub(r"[^A-Za-z]+", "_", route.path).rstrip("_"),
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_names(route.path)
        ],
        "responses": {
            str(route.status): {
                "description": route.summary,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                "headers": {
                    "Allow": {
                        "description": "The methods this path offers.",
                        "schema": {"type": "string"},
                    }
                },
            }
        },
    }


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _variable_types(operation: Operation, schema: GraphQLSchema) -> dict[str, tuple[Any, Any]]:
    """Each variable's GraphQL type and default value (None when it has none)."""
    types = {}
    for definition in operation.definition.variable_definitions or ():
        graphql_type = type_from_ast(schema, definition.type)
        if not is_input_type(graphql_type):
            raise SchemaDerivationError(f"Unknown type of ${definition.variable.name.value}.")
        default = (
            value_from_ast(definition.default_value, graphql_type)
            if definition.default_value is not None
            else None
        )
        types[definition.variable.name.value] = (graphql_type, default)
    return types


def argument_descriptions(operation: Operation, schema: GraphQLSchema) -> dict[str, str]:
    """For each variable passed straight to an argument, that argument's description."""
    type_info = TypeInfo(schema)
    found: dict[str, str] = {}

    class Arguments(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            argument = type_info.get_argument()
            if isinstance(node.value, VariableNode) and argument and argument.description:
                found.setdefault(node.value.name.value, argument.description)

    visit(operation.definition, TypeInfoVisitor(type_info, Arguments()))
    return found


def result_schema(endpoint: Endpoint, schema: GraphQLSchema) -> JsonSchema:
    """The body's schema: the value at the endpoint's result path (null there is a 404)."""
    root = schema.get_root_type(endpoint.operation.definition.operation)
    assert root is not None
    parent: GraphQLOutputType = root
    selections: SelectionSetNode | None = endpoint.operation.definition.selection_set
    description: str | None = None
    for step in endpoint.result:
        named = _unwrapped(parent)
        node = _field_node(selections, step)
        if not isinstance(named, GraphQLObjectType) or node is None:
            dotted = ".".join(endpoint.result)
            raise SchemaDerivationError(f"The result path {dotted} is not selected.")
        field = named.fields[node.name.value]
        parent, selections, description = field.type, node.selection_set, field.description
    non_null = parent.of_type if isinstance(parent, GraphQLNonNull) else parent
    return described(derive_output(schema, GraphQLNonNull(non_null), selections), description)


def _unwrapped(graphql_type: Any) -> Any:
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return graphql_type


def _field_node(selections: SelectionSetNode | None, key: str) -> FieldNode | None:
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode) and (selection.alias or selection.name).value == key:
            return selection
    return None
