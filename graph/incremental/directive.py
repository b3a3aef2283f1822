"""`@defer` in the schema the router validates and introspects against.

Composition leaves it out of the client schema (`schema.graphql`, as Apollo and Hive composition
print it: clients' tools know `@defer`); the router adds it, so a deferred fragment validates and
GraphiQL's introspection offers it.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    REMOVE,
    DirectiveNode,
    DocumentNode,
    GraphQLDeferDirective,
    GraphQLSchema,
    Visitor,
    visit,
)

# graphql-core's definition, as the incremental delivery RFC writes it.
DEFER_DIRECTIVE = GraphQLDeferDirective


def with_defer(schema: GraphQLSchema) -> GraphQLSchema:
    """`schema` with the `@defer` directive (unchanged when it has one)."""
    if schema.get_directive("defer") is not None:
        return schema
    kwargs = schema.to_kwargs()
    kwargs["directives"] = (*schema.directives, DEFER_DIRECTIVE)
    return GraphQLSchema(**kwargs)


def without_defer(schema: GraphQLSchema) -> GraphQLSchema:
    """`schema` as composition prints it: without the router's `@defer`."""
    if schema.get_directive("defer") is not DEFER_DIRECTIVE:
        return schema
    kwargs = schema.to_kwargs()
    kwargs["directives"] = tuple(d for d in schema.directives if d is not DEFER_DIRECTIVE)
    return GraphQLSchema(**kwargs)


def undeferred(document: DocumentNode) -> DocumentNode:
    """`document` without its `@defer` directives: everything delivered at once."""

    class _Undefer(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> Any:
            return REMOVE if node.name.value == "defer" else None

    return visit(document, _Undefer())
