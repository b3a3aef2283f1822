"""The declarative REST mapping: which persisted GraphQL operation each endpoint runs.

`graph/rest/v1/api.toml` lists the endpoints; the operations live in `.graphql` files beside
it. Loading checks the mapping against the documents (every bound variable exists, every path
parameter is bound) so a typo fails at start-up, not on a request.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)

V1_DIR = Path(__file__).parent / "v1"
PREFIX = "/api/v1"
CacheKind = Literal["market", "private", "none"]
_PATH_PARAM = re.compile(r"{(\w+)}")


class MappingError(Exception):
    """The mapping file or a document is inconsistent; the message names the endpoint."""


@dataclass(frozen=True, slots=True)
class Operation:
    """A persisted operation: its name, its standalone document text and its parsed form."""

    name: str
    text: str
    definition: OperationDefinitionNode

    @property
    def is_query(self) -> bool:
        return self.definition.operation.value == "query"

    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.variable.name.value for v in self.definition.variable_definitions or ())


@dataclass(frozen=True, slots=True)
class Pagination:
    """The body is a list ordered by `by`; pages continue from the day after a cursor."""

    by: str
    from_variable: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # under PREFIX, with {name} parameters
    operation: Operation
    result: tuple[str, ...]  # the path in `data` to the response body
    tag: str
    summary: str
    path_params: dict[str, str] = field(default_factory=dict)
    query_params: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    paginate: Pagination | None = None
    cache: CacheKind = "none"
    status: int = 200

    @property
    def operation_id(self) -> str:
        return self.operation.name[0].lower() + self.operation.name[1:]

    @property
    def route(self) -> str:
        return PREFIX + self.path


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A path and method the seed API had that the graph does not offer: a documented status."""

    method: str
    path: str
    tag: str
    summary: str
    status: int

    @property
    def route(self) -> str:
        return PREFIX + self.path


@dataclass(frozen=True, slots=True)
class RestMapping:
    endpoints: tuple[Endpoint, ...]
    unsupported: tuple[Unsupported, ...]


def unserved(mapping: RestMapping, schema: GraphQLSchema) -> list[str]:
    """The mapped operations `schema` cannot run (a router over other subgraphs), by name."""
    return [
        endpoint.operation.name
        for endpoint in mapping.endpoints
        if validate(schema, DocumentNode(definitions=(endpoint.operation.definition,)))
    ]


def load_operations(directory: Path) -> dict[str, Operation]:
    """Every named operation of the `.graphql` files in `directory`, keyed `file#Name`."""
    operations: dict[str, Operation] = {}
    for file in sorted(directory.glob("*.graphql")):
        document: DocumentNode = parse(file.read_text())
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
                raise MappingError(f"{file.name}: every definition must be a named operation.")
            name = definition.name.value
            operations[f"{file.name}#{name}"] = Operation(name, print_ast(definition), definition)
    return operations


def load_mapping(directory: Path = V1_DIR) -> RestMapping:
    """The endpoints of `directory/api.toml`, checked against their operations."""
    raw = tomllib.loads((directory / "api.toml").read_text())
    operations = load_operations(directory)
    endpoints = tuple(_endpoint(entry, operations) for entry in raw.get("endpoint", []))
    unsupported = tuple(
        Unsupported(e["method"], e["path"], e["tag"], e["summary"], int(e["status"]))
        for e in raw.get("unsupported", [])
    )
    seen: set[tuple[str, str]] = set()
    for key in [(e.method, e.path) for e in endpoints] + [(u.method, u.path) for u in unsupported]:
        if key in seen:
            raise MappingError(f"{key[0]} {key[1]} is mapped twice.")
        seen.add(key)
    return RestMapping(endpoints, unsupported)


def _endpoint(entry: dict[str, Any], operations: dict[str, Operation]) -> Endpoint:
    where = f"{entry.get('method')} {entry.get('path')}"
    operation = operations.get(entry["operation"])
    if operation is None:
        raise MappingError(f"{where}: no operation {entry['operation']!r}.")
    paginate = entry.get("paginate")
    endpoint = Endpoint(
        method=entry["method"].upper(),
        path=entry["path"],
        operation=operation,
        result=tuple(entry["result"].split(".")),
        tag=entry["tag"],
        summary=entry["summary"],
        path_params=dict(entry.get("path_params", {})),
        query_params=dict(entry.get("query_params", {})),
        body=entry.get("body"),
        paginate=Pagination(paginate["by"], paginate["from"]) if paginate else None,
        cache=entry.get("cache", "none"),
        status=int(entry.get("status", 200)),
    )
    declared = set(operation.variable_names())
    bound = [*endpoint.path_params.values(), *endpoint.query_params.values()]
    if endpoint.body:
        bound.append(endpoint.body)
    if unknown := sorted(set(bound) - declared):
        raise MappingError(f"{where}: {operation.name} has no variable(s) {unknown}.")
    if unbound := sorted(declared - set(bound)):
        raise MappingError(f"{where}: variable(s) {unbound} of {operation.name} are not mapped.")
    if set(_PATH_PARAM.findall(endpoint.path)) != set(endpoint.path_params):
        raise MappingError(f"{where}: path parameters and path_params differ.")
    if endpoint.method == "GET" and not operation.is_query:
        kind = operation.definition.operation.value
        raise MappingError(f"{where}: GET must run a query, not a {kind}.")
    return endpoint
