"""Subgraph SDL (as `_service { sdl }` prints it) read into a `SubgraphSchema`.

Handles Federation 2 (`@link(url: ".../federation/v2.x", import: [...])`, renamed imports,
`federation__` prefixed names) and Fed1 (`extend type`, `@extends`, bare directive names), and drops
the federation machinery a subgraph exposes (`_service`, `_entities`, `_Any`, `_Entity`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from graph.compose.errors import CompositionError
from graph.compose.fieldsets import top_level_names
from graph.compose.model import Argument, Field, Key, SubgraphSchema, TypeDef, TypeKind

FEDERATION_DIRECTIVES = (
    "key",
    "shareable",
    "external",
    "requires",
    "provides",
    "override",
    "inaccessible",
    "interfaceObject",
    "extends",
    "tag",
    "composeDirective",
    "context",
    "fromContext",
    *("authenticated", "requiresScopes", "policy", "cost", "listSize"),
)
# Carried into the supergraph as they are (the router enforces them); see graph.compose.policies.
POLICY_DIRECTIVES = ("authenticated", "requiresScopes", "policy", "cost", "listSize")
MACHINERY_TYPES = frozenset(
    {"_Service", "_Any", "_Entity", "_FieldSet", "FieldSet", "link__Import", "link__Purpose"}
)
MACHINERY_ROOT_FIELDS = frozenset({"_service", "_entities"})
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
_FEDERATION_URL = "specs.apollo.dev/federation/"

_KINDS: dict[type, TypeKind] = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    InputObjectTypeExtensionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
    ScalarTypeExtensionNode: "scalar",
}
_EXTENSIONS = (
    ObjectTypeExtensionNode,
    InterfaceTypeExtensionNode,
    UnionTypeExtensionNode,
    EnumTypeExtensionNode,
    InputObjectTypeExtensionNode,
    ScalarTypeExtensionNode,
)


@dataclass(frozen=True, slots=True)
class SubgraphSDL:
    """A subgraph to compose: its name, the URL a router reaches it at, and its SDL."""

    name: str
    url: str
    sdl: str


def read_subgraph(subgraph: SubgraphSDL) -> SubgraphSchema:
    try:
        document = parse(subgraph.sdl)
    except GraphQLSyntaxError as error:
        raise CompositionError(
            [f'Subgraph "{subgraph.name}" has invalid SDL: {error.message}; fix its schema.']
        ) from error
    names, fed1 = _directive_names(document)
    roots = _root_renames(document)
    types: dict[str, TypeDef] = {}
    for definition in document.definitions:
        kind = _KINDS.get(type(definition))
        if kind is None:
            continue
        local_name: str = definition.name.value  # type: ignore[attr-defined]
        name = roots.get(local_name, local_name)
        if name in MACHINERY_TYPES or name.startswith("federation__"):
            continue
        directives = _Directives(definition.directives or (), names)  # type: ignore[attr-defined]
        type_def = types.setdefault(name, TypeDef(name=name, kind=kind))
        _read_type(type_def, definition, directives, fed1, roots)
    if fed1:
        _fed1_keys_are_resolvable(types)
    for root in ROOT_NAMES.values():
        root_type = types.get(root)
        if root_type is not None:
            for machinery in MACHINERY_ROOT_FIELDS:
                root_type.fields.pop(machinery, None)
            if not root_type.fields:
                del types[root]
    return SubgraphSchema(name=subgraph.name, url=subgraph.url, types=types, fed1=fed1)


def _fed1_keys_are_resolvable(types: dict[str, TypeDef]) -> None:
    """Fed1 marks the key fields of an extended entity @external, yet the subgraph resolves them."""
    for type_def in types.values():
        for key in type_def.keys:
            for name in top_level_names(key.fields):
                if name in type_def.fields:
                    type_def.fields[name].external = False


def _directive_names(document: DocumentNode) -> tuple[dict[str, str], bool]:
    """Local directive name -> canonical federation name, and whether the subgraph is Fed1."""
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = _arguments(directive)
            url = str(args.get("url", ""))
            if _FEDERATION_URL not in url:
                continue
            prefix = str(args.get("as") or "federation")
            names = {f"{prefix}__{name}": name for name in FEDERATION_DIRECTIVES}
            for item in args.get("import") or ():
                if isinstance(item, str):
                    imported, local = item, item
                else:
                    imported, local = item["name"], item.get("as", item["name"])
                names[local.lstrip("@")] = imported.lstrip("@")
            return names, False
    return {name: name for name in FEDERATION_DIRECTIVES}, True


def _root_renames(document: DocumentNode) -> dict[str, str]:
    renames: dict[str, str] = {}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for operation_type in definition.operation_types or ():
                canonical = ROOT_NAMES[operation_type.operation.value]
                renames[operation_type.type.name.value] = canonical
    return renames


def _arguments(directive: ConstDirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in directive.arguments or ()}


class _Directives:
    """The federation directives applied to one element, by canonical name."""

    def __init__(self, nodes: Any, names: dict[str, str]) -> None:
        self.names = names
        self.applied: list[tuple[str, dict[str, Any]]] = []
        for node in nodes:
            local = node.name.value
            if local in ("deprecated", "specifiedBy"):
                self.applied.append((local, _arguments(node)))
            elif local in names:
                self.applied.append((names[local], _arguments(node)))

    def has(self, name: str) -> bool:
        return any(applied == name for applied, _ in self.applied)

    def all(self, name: str) -> list[dict[str, Any]]:
        return [args for applied, args in self.applied if applied == name]

    def first(self, name: str) -> dict[str, Any] | None:
        found = self.all(name)
        return found[0] if found else None

    def policies(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        return tuple((name, args) for name, args in self.applied if name in POLICY_DIRECTIVES)

    def tags(self) -> tuple[str, ...]:
        return tuple(str(args["name"]) for args in self.all("tag"))


def _read_type(
    type_def: TypeDef, node: Any, directives: _Directives, fed1: bool, roots: dict[str, str]
) -> None:
    description = getattr(node, "description", None)
    if description is not None and type_def.description is None:
        type_def.description = description.value
    for args in directives.all("key"):
        type_def.keys.append(Key(str(args["fields"]), bool(args.get("resolvable", True))))
    type_def.shareable |= directives.has("shareable")
    type_def.extension |= isinstance(node, _EXTENSIONS) or directives.has("extends")
    type_def.interface_object |= directives.has("interfaceObject")
    type_def.inaccessible |= directives.has("inaccessible")
    type_def.tags += directives.tags()
    type_def.policies += directives.policies()
    type_def.contexts += [str(args["name"]) for args in directives.all("context")]
    for interface in getattr(node, "interfaces", None) or ():
        type_def.interfaces.append(interface.name.value)
    for member in getattr(node, "types", None) or ():
        type_def.members.append(roots.get(member.name.value, member.name.value))
    for value in getattr(node, "values", None) or ():
        if isinstance(value, InputValueDefinitionNode):
            continue
        value_directives = _Directives(value.directives or (), directives.names)
        enum_value = Field(name=value.name.value, type="")
        _read_common(enum_value, value, value_directives)
        type_def.values[enum_value.name] = enum_value
    for field_node in _field_nodes(node):
        field = _read_field(field_node, directives.names, roots)
        if fed1 and type_def.kind == "object":
            field.shareable = True
        type_def.fields[field.name] = field


def _field_nodes(node: Any) -> list[Any]:
    if isinstance(node, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        return []
    return list(getattr(node, "fields", None) or ())


def _read_common(target: Field, node: Any, directives: _Directives) -> None:
    description = getattr(node, "description", None)
    if description is not None:
        target.description = description.value
    deprecated = directives.first("deprecated")
    if deprecated is not None:
        target.deprecated = True
        target.deprecation = deprecated.get("reason")
    target.inaccessible = directives.has("inaccessible")
    target.tags = directives.tags()


def _read_field(node: Any, names: dict[str, str], roots: dict[str, str]) -> Field:
    directives = _Directives(node.directives or (), names)
    field = Field(name=node.name.value, type=_type_string(node.type, roots))
    _read_common(field, node, directives)
    field.policies = directives.policies()
    field.external = directives.has("external")
    field.shareable = directives.has("shareable")
    requires = directives.first("requires")
    field.requires = str(requires["fields"]) if requires else None
    provides = directives.first("provides")
    field.provides = str(provides["fields"]) if provides else None
    override = directives.first("override")
    if override is not None:
        field.override = str(override["from"])
        label = override.get("label")
        field.override_label = str(label) if label is not None else None
    if isinstance(node, InputValueDefinitionNode):
        field.default = print_ast(node.default_value) if node.default_value else None
    elif isinstance(node, FieldDefinitionNode):
        for arg in node.arguments or ():
            arg_directives = _Directives(arg.directives or (), names)
            field.arguments[arg.name.value] = Argument(
                name=arg.name.value,
                type=_type_string(arg.type, roots),
                default=print_ast(arg.default_value) if arg.default_value else None,
                description=arg.description.value if arg.description else None,
                inaccessible=arg_directives.has("inaccessible"),
                from_context=_from_context(arg_directives),
            )
    return field


def _from_context(directives: _Directives) -> str | None:
    found = directives.first("fromContext")
    return str(found["field"]) if found is not None else None


def _type_string(type_node: Any, roots: dict[str, str]) -> str:
    printed = print_ast(type_node)
    name = printed.strip("[]!")
    return printed.replace(name, roots[name]) if name in roots else printed
