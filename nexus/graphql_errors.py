"""Every GraphQL error leaves a subgraph with an `extensions.code`, and nothing internal leaks.

Codes follow Apollo's conventions so clients and routers can branch on them:
GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT (a value the schema or a resolver
rejected), the codes of `nexus.errors`, and INTERNAL_SERVER_ERROR for anything unexpected, whose
message is replaced so that no traceback, SQL or connection string reaches the client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

log = logging.getLogger("nexus.graphql")

# graphql-core phrases for a literal or variable value the schema cannot accept.
_INPUT_VALUE_PHRASES = (
    "Value cannot represent",
    "Expected value of type",
    "has invalid value",
    "of required type",
    "was not provided",
    "cannot represent",
    "Int cannot represent",
    "Float cannot represent",
)


def code_for(error: GraphQLError) -> str:
    """The `extensions.code` a client sees for `error`."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if isinstance(original, GraphQLError) and original.extensions:
        nested = original.extensions.get("code")
        if isinstance(nested, str):
            return nested
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if any(phrase in error.message for phrase in _INPUT_VALUE_PHRASES):
        return "BAD_USER_INPUT"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"


def client_error(error: GraphQLError) -> GraphQLError:
    """`error` as the client may see it: coded, and masked when it is not one of ours."""
    code = code_for(error)
    if code != "INTERNAL_SERVER_ERROR":
        original = error.original_error
        extensions = dict(original.extensions or {}) if isinstance(original, GraphQLError) else {}
        extensions.update(error.extensions or {})
        extensions["code"] = code
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    log.error(
        "unexpected resolver error",
        exc_info=(
            type(error.original_error),
            error.original_error,
            error.original_error.__traceback__,
        )
        if error.original_error is not None
        else None,
        extra={"path": error.path},
    )
    return GraphQLError(
        "Unexpected error.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


class ErrorCodes(SchemaExtension):
    """Rewrites the operation's errors with `client_error` before the response is built."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [client_error(error) for error in result.errors]


# Distinct documents whose parse and validation each subgraph process keeps (LRU; Strawberry's
# caches are per process, shared by the schemas). The router sends the same few fetch documents
# over and over (its plan cache holds 1,024 operations), only their variables change.
DOCUMENT_CACHE_SIZE = 2048


class SubgraphSchema(strawberry.federation.Schema):
    """A Federation 2 schema whose errors are coded by `ErrorCodes` and logged once, here.

    It declares Federation v2.9 unless told otherwise: Strawberry's default (v2.11) is newer than
    Hive's composition reads, and our subgraphs use nothing added since v2.9.

    Parsing and validating a fetch document cost most of a subgraph's CPU per request (about
    nine tenths for the router's cross-subgraph benchmark query: README, Performance); a
    document seen before is neither parsed nor validated again (`ParserCache`,
    `ValidationCache`: the same text gives the same document, and a document's validation
    against this schema does not change). Variables are not part of either key.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["extensions"] = [
            ErrorCodes,
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            *kwargs.get("extensions", ()),
        ]
        kwargs.setdefault("federation_version", "2.9")
        super().__init__(**kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # `client_error` already logged the unexpected ones; expected errors are the caller's.
        return
