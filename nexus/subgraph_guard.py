"""Limits of a subgraph served over HTTP (`nexus subgraph`, or `/subgraphs/*` when exposed).

A subgraph endpoint is called by a router, which has already limited the client's operation;
but it is reachable on its own port, so it refuses what no router sends: huge `_entities`
batches (5,000 `Series` representations ran out of memory), thousands of aliases, deep or large
documents, and `_service { sdl }` unless composition tooling is meant to read it. In-process
calls from our own router never pass through here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListValueNode,
    OperationDefinitionNode,
    VariableNode,
    get_operation_ast,
    parse,
)

from graph.input_check import InputRefused, check_json, check_literals, check_text
from graph.limits import LimitExceeded, RequestLimits, check_document_size, check_limits

# Looser than the router's: a planned fetch carries the router's keys, aliases and fragments.
SUBGRAPH_REQUEST_LIMITS = RequestLimits(
    max_depth=32,
    max_aliases=100,
    max_root_fields=None,
    max_document_bytes=64 * 1024,
    max_fields=5_000,
)


@dataclass(frozen=True, slots=True)
class SubgraphLimits:
    max_representations: int = 1_000
    allow_sdl: bool = False
    request: RequestLimits = SUBGRAPH_REQUEST_LIMITS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SubgraphLimits:
        env = os.environ if environ is None else environ
        default = cls()
        request = default.request
        overrides = {
            "max_depth": "NEXUS_SUBGRAPH_MAX_DEPTH",
            "max_aliases": "NEXUS_SUBGRAPH_MAX_ALIASES",
            "max_document_bytes": "NEXUS_SUBGRAPH_MAX_DOCUMENT_BYTES",
        }
        values: dict[str, Any] = {
            field: int(env[name]) for field, name in overrides.items() if env.get(name, "").strip()
        }
        if values:
            request = replace(request, **values)
        return cls(
            max_representations=int(
                env.get("NEXUS_SUBGRAPH_MAX_REPRESENTATIONS", default.max_representations)
            ),
            allow_sdl=env.get("NEXUS_SUBGRAPH_SDL", "off").strip().lower() == "on",
            request=request,
        )


def subgraphs_exposed(environ: Mapping[str, str] | None = None) -> bool:
    """NEXUS_EXPOSE_SUBGRAPHS=on: `nexus serve` also mounts `/subgraphs/NAME/graphql`."""
    env = os.environ if environ is None else environ
    value = env.get("NEXUS_EXPOSE_SUBGRAPHS", "off").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"NEXUS_EXPOSE_SUBGRAPHS must be `on` or `off`, not {value!r}")
    return value == "on"


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_subgraph_request(
    query: str | None,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    limits: SubgraphLimits,
) -> None:
    """Raise Refused when the request breaks a limit; cheap checks first (no full validation:
    the schema validates what passes)."""
    if not isinstance(query, str):
        return  # Strawberry answers a missing query itself
    try:
        check_document_size(query, limits.request)
        check_text(query, "The query")
        if variables is not None:
            check_json(variables, "The variables")
        try:
            document = parse(query)
        except GraphQLError:
            return  # Strawberry answers the syntax error with its location
        check_literals(document)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return
        check_limits(document, operation, limits.request)
    except LimitExceeded as error:
        raise Refused(error.code, error.message) from error
    except InputRefused as error:
        raise Refused("BAD_USER_INPUT", error.message) from error
    _check_federation_fields(document, operation, variables or {}, limits)


def _check_federation_fields(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    limits: SubgraphLimits,
) -> None:
    del document  # root fields only: `_entities`/`_service` are Query fields
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        if selection.name.value == "_service" and not limits.allow_sdl:
            raise Refused(
                "FORBIDDEN",
                "`_service { sdl }` is not served here; set NEXUS_SUBGRAPH_SDL=on for "
                "composition tooling.",
            )
        if selection.name.value != "_entities":
            continue
        for argument in selection.arguments or ():
            if argument.name.value != "representations":
                continue
            value = argument.value
            count = 0
            if isinstance(value, ListValueNode):
                count = len(value.values)
            elif isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                count = len(given) if isinstance(given, list) else 0
            if count > limits.max_representations:
                raise Refused(
                    "MAX_REPRESENTATIONS_EXCEEDED",
                    f"`_entities` got {count:,} representations; the limit is "
                    f"{limits.max_representations:,} per request. Send smaller batches.",
                )
