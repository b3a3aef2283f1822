"""Print a composed supergraph as standard supergraph SDL (link v1.0, join v0.5), sorted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql.language.block_string import print_block_string
from graphql.language.print_string import print_string

from graph.compose.model import Argument
from graph.compose.policies import DEFINITIONS, LINKS, features, print_policies
from graph.compose.supergraph_model import (
    ComposedSupergraph,
    JoinField,
    JoinType,
    SuperField,
    SuperType,
)

LINK = "https://specs.apollo.dev/link/v1.0"
JOIN = "https://specs.apollo.dev/join/v0.5"
INACCESSIBLE = "https://specs.apollo.dev/inaccessible/v0.2"
TAG = "https://specs.apollo.dev/tag/v0.3"
CONTEXT = "https://specs.apollo.dev/context/v0.1"
# as Apollo composition links the context feature (Federation 2.8) when a subgraph sets one
CONTEXT_DEFINITIONS = (
    "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
    "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION",
)
CONTEXT_SCALAR = "scalar context__ContextFieldValue"

_LOCATIONS = (
    "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | "
    "ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
JOIN_DEFINITIONS = """\
directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA"""  # noqa: E501
INACCESSIBLE_DEFINITION = f"directive @inaccessible on {_LOCATIONS}"
TAG_DEFINITION = f"directive @tag(name: String!) repeatable on {_LOCATIONS} | SCHEMA"
MACHINERY_TYPES = '''\
input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldSet

scalar join__FieldValue

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''


def print_supergraph(supergraph: ComposedSupergraph) -> str:
    types = supergraph.types
    uses_inaccessible = any(_uses(t, "inaccessible") for t in types.values())
    uses_tag = any(_uses(t, "tags") for t in types.values())
    links = [f'  @link(url: "{LINK}")', f'  @link(url: "{JOIN}", for: EXECUTION)']
    definitions = JOIN_DEFINITIONS.split("\n\n")
    if uses_inaccessible:
        links.append(f'  @link(url: "{INACCESSIBLE}", for: SECURITY)')
        definitions.append(INACCESSIBLE_DEFINITION)
    if uses_tag:
        links.append(f'  @link(url: "{TAG}")')
        definitions.append(TAG_DEFINITION)
    uses_context = any(t.contexts for t in types.values())
    if uses_context:
        links.append(f'  @link(url: "{CONTEXT}", for: SECURITY)')
        definitions += CONTEXT_DEFINITIONS
    used = features(_all_policies(types.values()))
    for feature in sorted(used):
        links.append(f"  {LINKS[feature]}")
        definitions += [d for d in DEFINITIONS[feature] if d.startswith("directive")]
    roots = [
        f"  {operation}: {name}"
        for operation, name in (
            ("query", "Query"),
            ("mutation", "Mutation"),
            ("subscription", "Subscription"),
        )
        if name in types
    ]
    blocks = ["schema\n" + "\n".join(links) + "\n{\n" + "\n".join(roots) + "\n}"]
    blocks += sorted(definitions, key=lambda d: d.split("(")[0].split(" ")[1])
    graph_values = "\n".join(
        f"  {g.enum_name} @join__graph(name: {print_string(g.name)}, url: {print_string(g.url)})"
        for g in supergraph.graphs
    )
    printed = {name: _print_type(t) for name, t in types.items()}
    printed["join__Graph"] = "enum join__Graph {\n" + graph_values + "\n}"
    for feature in used:
        for definition in DEFINITIONS[feature]:
            if definition.startswith("scalar "):
                printed[definition.split(" ")[1]] = definition
    if uses_context:
        printed["context__ContextFieldValue"] = CONTEXT_SCALAR
    for block in MACHINERY_TYPES.split("\n\n"):
        if block.startswith("enum link__Purpose"):
            printed["link__Purpose"] = MACHINERY_TYPES[MACHINERY_TYPES.index(block) :]
            break
        printed[block.split(" ")[1]] = block
    blocks += [printed[name] for name in sorted(printed)]
    return "\n\n".join(blocks) + "\n"


def _all_policies(types: Iterable[SuperType]) -> list[dict[str, dict[str, Any]]]:
    found = []
    for type_def in types:
        found.append(type_def.policies)
        found += [f.policies for f in type_def.fields.values()]
    return found


def _uses(type_def: SuperType, attribute: str) -> bool:
    if getattr(type_def, attribute):
        return True
    for field in type_def.fields.values():
        if getattr(field, attribute):
            return True
        if any(getattr(a, attribute, False) for a in field.arguments.values()):
            return True
    return False


def _description(description: str | None, indent: str) -> str:
    if description is None:
        return ""
    block = print_block_string(description)
    return "\n".join(indent + line if line else line for line in block.split("\n")) + "\n"


def _element_directives(element: SuperType | SuperField | Argument) -> str:
    return "".join(" " + part for part in _directive_list(element))


def _directive_list(element: SuperType | SuperField | Argument) -> list[str]:
    parts = []
    if getattr(element, "deprecated", False):
        reason = getattr(element, "deprecation", None)
        parts.append(f"@deprecated(reason: {print_string(reason)})" if reason else "@deprecated")
    if element.inaccessible:
        parts.append("@inaccessible")
    parts += [f"@tag(name: {print_string(tag)})" for tag in getattr(element, "tags", ())]
    return parts + print_policies(getattr(element, "policies", {}))


def _print_type(type_def: SuperType) -> str:
    keyword = {
        "object": "type",
        "interface": "interface",
        "union": "union",
        "enum": "enum",
        "input": "input",
        "scalar": "scalar",
    }[type_def.kind]
    head = f"{keyword} {type_def.name}"
    if type_def.interfaces:
        head += " implements " + " & ".join(type_def.interfaces)
    lines = [f"  {_join_type(j)}" for j in type_def.join_types]
    lines += [
        f"  @join__implements(graph: {graph}, interface: {print_string(interface)})"
        for graph, interface in type_def.implements
    ]
    lines += [
        f"  @join__unionMember(graph: {graph}, member: {print_string(member)})"
        for graph, member in type_def.members
    ]
    lines += [f"  @context(name: {print_string(c)})" for c in type_def.contexts]
    lines += [f"  {directive}" for directive in _directive_list(type_def)]
    text = _description(type_def.description, "") + head + "\n" + "\n".join(lines)
    if type_def.kind == "scalar":
        return text
    if type_def.kind == "union":
        members = sorted({member for _, member in type_def.members})
        return text + "\n = " + " | ".join(members)
    body = [_print_field(type_def, field) for field in type_def.fields.values()]
    separator = "\n\n" if any(f.description for f in type_def.fields.values()) else "\n"
    return text + "\n{\n" + separator.join(body) + "\n}"


def _join_type(join: JoinType) -> str:
    args = [f"graph: {join.graph}"]
    if join.key is not None:
        args.append(f"key: {print_string(join.key)}")
    if join.extension:
        args.append("extension: true")
    if not join.resolvable:
        args.append("resolvable: false")
    if join.interface_object:
        args.append("isInterfaceObject: true")
    return f"@join__type({', '.join(args)})"


def _join_field(join: JoinField) -> str:
    args = [f"graph: {join.graph}"]
    for name, value in (
        ("requires", join.requires),
        ("provides", join.provides),
        ("type", join.type),
        ("override", join.override),
        ("overrideLabel", join.override_label),
    ):
        if value is not None:
            args.append(f"{name}: {print_string(value)}")
    if join.external:
        args.append("external: true")
    if join.used_overridden:
        args.append("usedOverridden: true")
    if join.context_arguments:
        printed = ", ".join(
            f"{{context: {print_string(context)}, name: {print_string(name)}, "
            f"type: {print_string(type_)}, selection: {print_string(selection)}}}"
            for context, name, type_, selection in join.context_arguments
        )
        args.append(f"contextArguments: [{printed}]")
    return f"@join__field({', '.join(args)})"


def _print_argument(argument: Argument) -> str:
    text = f"{argument.name}: {argument.type}"
    if argument.default is not None:
        text += f" = {argument.default}"
    if argument.description:
        text = f"{print_string(argument.description)} {text}"
    return text + _element_directives(argument)


def _print_field(type_def: SuperType, field: SuperField) -> str:
    description = _description(field.description, "  ")
    if type_def.kind == "enum":
        joins = "".join(f" @join__enumValue(graph: {graph})" for graph in field.graphs)
        return f"{description}  {field.name}{joins}{_element_directives(field)}"
    text = f"{description}  {field.name}"
    if field.arguments:
        text += "(" + ", ".join(_print_argument(a) for a in field.arguments.values()) + ")"
    text += f": {field.type}"
    if field.default is not None:
        text += f" = {field.default}"
    if field.joins is not None and not field.joins:
        text += " @join__field"
    for join in field.joins or ():
        text += " " + _join_field(join)
    return text + _element_directives(field)
