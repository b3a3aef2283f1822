"""Standard supergraph SDL (link v1.0 or core v0.2; join v0.2 to v0.5) -> `Supergraph`."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from graph.supergraph.api_schema import build_api_schema
from graph.supergraph.errors import SupergraphError
from graph.supergraph.model import (
    POLICY_DIRECTIVES,
    ContextArgument,
    EntityKey,
    FieldInfo,
    FieldInGraph,
    SubgraphEndpoint,
    Supergraph,
    TypeInfo,
    TypeInGraph,
    TypeKind,
)

_KINDS: dict[type, TypeKind] = {
    ObjectTypeDefinitionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    UnionTypeDefinitionNode: "union",
    EnumTypeDefinitionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
}
_JOIN_URL = "specs.apollo.dev/join/v"
_CONTEXT_URL = "specs.apollo.dev/context/v"


def read_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl)
    except GraphQLSyntaxError as error:
        raise SupergraphError(f"The supergraph SDL does not parse: {error.message}") from error
    join = _join_prefix(document)
    context = _context_directive(document)
    subgraphs = _subgraphs(document, join)
    types: dict[str, TypeInfo] = {}
    for definition in document.definitions:
        kind = _KINDS.get(type(definition))
        if kind is None or not isinstance(definition, TypeDefinitionNode):
            continue
        name = definition.name.value
        if name.startswith((f"{join}__", "link__", "core__", f"{context}__")):
            continue
        types[name] = _read_type(definition, kind, join, subgraphs, context)
    try:
        api_schema = build_api_schema(document)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"The supergraph's API schema is invalid: {error}") from error
    roots = {
        kind: root.name
        for kind, root in (
            ("query", api_schema.query_type),
            ("mutation", api_schema.mutation_type),
            ("subscription", api_schema.subscription_type),
        )
        if root is not None
    }
    return Supergraph(
        subgraphs={s.name: s for s in subgraphs.values()},
        types=types,
        api_schema=api_schema,
        sdl=sdl,
        root_types=roots,
    )


def _arguments(directive: Any) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _join_prefix(document: DocumentNode) -> str:
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value not in ("link", "core"):
                continue
            args = _arguments(directive)
            url = str(args.get("url") or args.get("feature") or "")
            if _JOIN_URL in url:
                version = url.rsplit("/v", 1)[-1]
                if version in ("0.1",):
                    raise SupergraphError(
                        f"join v{version} supergraphs are not supported; recompose with "
                        "Federation 2 tooling (join v0.3 or later)."
                    )
                return str(args.get("as") or "join")
    raise SupergraphError(
        'The SDL has no @link(url: "https://specs.apollo.dev/join/v0.x"); it is not a supergraph. '
        "Compose it with `nexus compose`, rover or Hive's federation-composition."
    )


def _context_directive(document: DocumentNode) -> str:
    """The name @context has here: as the context feature is linked (Apollo composition,
    `specs.apollo.dev/context/v0.1`), `context` unless renamed."""
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode):
            continue
        for directive in definition.directives or ():
            args = _arguments(directive)
            if directive.name.value == "link" and _CONTEXT_URL in str(args.get("url") or ""):
                return str(args.get("as") or "context")
    return "context"


def _subgraphs(document: DocumentNode, join: str) -> dict[str, SubgraphEndpoint]:
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == (
            f"{join}__Graph"
        ):
            found = {}
            for value in definition.values or ():
                for directive in value.directives or ():
                    if directive.name.value == f"{join}__graph":
                        args = _arguments(directive)
                        found[value.name.value] = SubgraphEndpoint(
                            name=str(args["name"]),
                            enum_name=value.name.value,
                            url=str(args.get("url") or ""),
                        )
            return found
    raise SupergraphError(f"The supergraph has no `enum {join}__Graph` listing its subgraphs.")


def _read_type(
    node: TypeDefinitionNode,
    kind: TypeKind,
    join: str,
    subgraphs: dict[str, SubgraphEndpoint],
    context: str,
) -> TypeInfo:
    info = TypeInfo(name=node.name.value, kind=kind)
    keys: dict[str, list[EntityKey]] = {}
    interface_object: set[str] = set()
    implements: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for directive in node.directives or ():
        args = _arguments(directive)
        directive_name = directive.name.value
        if directive_name == f"{join}__type":
            graph = subgraphs[str(args["graph"])].name
            keys.setdefault(graph, [])
            if args.get("key") is not None:
                keys[graph].append(EntityKey(str(args["key"]), bool(args.get("resolvable", True))))
            if args.get("isInterfaceObject"):
                interface_object.add(graph)
        elif directive_name == f"{join}__implements":
            graph = subgraphs[str(args["graph"])].name
            implements.setdefault(graph, []).append(str(args["interface"]))
        elif directive_name in POLICY_DIRECTIVES:
            info.policies[directive_name] = args
        # `@context` as composition links it; `@join__context` as this project once printed it
        elif directive_name in (context, f"{join}__context"):
            info.contexts += (str(args["name"]),)
        elif directive_name == f"{join}__unionMember":
            graph = subgraphs[str(args["graph"])].name
            members.setdefault(graph, []).append(str(args["member"]))
    if not keys:  # types without join__type are available everywhere (older compositions)
        keys = {s.name: [] for s in subgraphs.values()}
    info.graphs = {
        g: TypeInGraph(graph=g, keys=tuple(k), interface_object=g in interface_object)
        for g, k in keys.items()
    }
    info.implements = {g: tuple(i) for g, i in implements.items()}
    info.members = {g: tuple(m) for g, m in members.items()}
    if kind in ("object", "interface"):
        for field_node in getattr(node, "fields", None) or ():
            info.fields[field_node.name.value] = _read_field(field_node, join, subgraphs, info)
    return info


def _read_field(
    node: Any, join: str, subgraphs: dict[str, SubgraphEndpoint], parent: TypeInfo
) -> FieldInfo:
    field = FieldInfo(name=node.name.value, type=print_ast(node.type))
    field.policies = {
        d.name.value: _arguments(d)
        for d in node.directives or ()
        if d.name.value in POLICY_DIRECTIVES
    }
    joins = [d for d in node.directives or () if d.name.value == f"{join}__field"]
    if not joins:
        field.graphs = {g: FieldInGraph(graph=g) for g in parent.graphs}
        return field
    for directive in joins:
        args = _arguments(directive)
        if args.get("graph") is None:
            continue
        graph = subgraphs[str(args["graph"])].name
        field.graphs[graph] = FieldInGraph(
            graph=graph,
            external=bool(args.get("external", False)),
            requires=args.get("requires"),
            provides=args.get("provides"),
            override=args.get("override"),
            used_overridden=bool(args.get("usedOverridden", False)),
            override_label=args.get("overrideLabel"),
            type=args.get("type"),
            context_arguments=tuple(
                ContextArgument(
                    str(c["context"]), str(c["name"]), str(c["type"]), str(c["selection"])
                )
                for c in args.get("contextArguments") or ()
            ),
        )
    return field
