"""The API schema clients see: the supergraph minus federation machinery and @inaccessible parts."""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    NamedTypeNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    build_ast_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
    value_from_ast_untyped,
)

_KEPT_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})
_MACHINERY_PREFIXES = (
    "join__",
    "link__",
    "core__",
    "requiresScopes__",
    "policy__",
    "context__",
)


def client_schema_sdl(supergraph_sdl: str) -> str:
    """The client schema SDL of a supergraph, sorted by name (what `schema.graphql` holds)."""
    return print_schema(lexicographic_sort_schema(build_api_schema(parse(supergraph_sdl))))


def build_api_schema(document: DocumentNode) -> GraphQLSchema:
    return build_ast_schema(api_document(document), assume_valid_sdl=True)


def api_document(document: DocumentNode) -> DocumentNode:
    inaccessible = _inaccessible_name(document)
    hidden = {
        d.name.value
        for d in document.definitions
        if isinstance(d, TypeDefinitionNode)
        and (d.name.value.startswith(_MACHINERY_PREFIXES) or _has(d, inaccessible))
    }
    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, DirectiveDefinitionNode | SchemaExtensionNode):
            continue
        if isinstance(definition, SchemaDefinitionNode):
            definitions.append(_schema_definition(definition, hidden))
        elif isinstance(definition, TypeDefinitionNode) and definition.name.value not in hidden:
            definitions.append(_strip_type(definition, hidden, inaccessible))
    return DocumentNode(definitions=tuple(definitions))


def _inaccessible_name(document: DocumentNode) -> str:
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value not in ("link", "core"):
                continue
            args = {
                a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()
            }
            url = str(args.get("url") or args.get("feature") or "")
            if "/inaccessible/" in url:
                return str(args.get("as") or "inaccessible")
    return "inaccessible"


def _has(node: Any, directive_name: str) -> bool:
    return any(d.name.value == directive_name for d in getattr(node, "directives", None) or ())


def _named(type_node: Any) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    return str(type_node.name.value)


def _kept_directives(node: Any) -> tuple[Any, ...]:
    return tuple(d for d in node.directives or () if d.name.value in _KEPT_DIRECTIVES)


def _schema_definition(node: SchemaDefinitionNode, hidden: set[str]) -> SchemaDefinitionNode:
    return dataclasses.replace(
        node,
        directives=(),
        operation_types=tuple(
            op for op in node.operation_types if op.type.name.value not in hidden
        ),
    )


def _visible(node: Any, hidden: set[str], inaccessible: str) -> bool:
    if _has(node, inaccessible):
        return False
    type_node = getattr(node, "type", None)
    return type_node is None or _named(type_node) not in hidden


def _strip_element(node: Any, hidden: set[str], inaccessible: str) -> Any:
    changes: dict[str, Any] = {"directives": _kept_directives(node)}
    arguments = getattr(node, "arguments", None)
    if arguments is not None:
        changes["arguments"] = tuple(
            _strip_element(a, hidden, inaccessible)
            for a in arguments
            if _visible(a, hidden, inaccessible)
        )
    return dataclasses.replace(node, **changes)


def _strip_type(node: Any, hidden: set[str], inaccessible: str) -> Any:
    changes: dict[str, Any] = {"directives": _kept_directives(node)}
    for attribute in ("fields", "values"):
        children = getattr(node, attribute, None)
        if children is not None:
            changes[attribute] = tuple(
                _strip_element(c, hidden, inaccessible)
                for c in children
                if _visible(c, hidden, inaccessible)
            )
    for attribute in ("interfaces", "types"):
        named = getattr(node, attribute, None)
        if named is not None:
            changes[attribute] = tuple(n for n in named if n.name.value not in hidden)
    return dataclasses.replace(node, **changes)
