"""The query graph model: which subgraph resolves which type and field, and how entities jump.

Read from a supergraph SDL by `graph.supergraph.reader`; the planner asks it questions, the
executor never sees it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from graphql import FieldNode, GraphQLSchema, GraphQLSyntaxError, parse

TypeKind = Literal["object", "interface", "union", "enum", "input", "scalar"]


@dataclass(frozen=True, slots=True)
class SubgraphEndpoint:
    name: str
    enum_name: str
    url: str


@dataclass(frozen=True, slots=True)
class EntityKey:
    fields: str
    resolvable: bool = True

    @property
    def top_level(self) -> frozenset[str]:
        return top_level_fields(self.fields)


@lru_cache(maxsize=4096)
def top_level_fields(fields: str) -> frozenset[str]:
    """The first-level field names of a field set such as `id owner { id }`."""
    try:
        operation = parse("{" + fields + "}").definitions[0]
    except GraphQLSyntaxError:
        return frozenset()
    selections = operation.selection_set.selections  # type: ignore[attr-defined]
    return frozenset(s.name.value for s in selections if isinstance(s, FieldNode))


@dataclass(frozen=True, slots=True)
class TypeInGraph:
    graph: str
    keys: tuple[EntityKey, ...] = ()
    interface_object: bool = False


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """An argument the router fills from the nearest ancestor of `context`'s type."""

    context: str  # `subgraph__name` of a @context
    name: str
    type: str
    selection: str  # on the ancestor, e.g. `{ currency }`


@dataclass(frozen=True, slots=True)
class FieldInGraph:
    graph: str
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    override: str | None = None
    used_overridden: bool = False
    override_label: str | None = None  # progressive @override: which side serves depends on it
    type: str | None = None  # the subgraph's own type when it differs from the supergraph's
    context_arguments: tuple[ContextArgument, ...] = ()  # @fromContext, filled by the router


# @authenticated, @requiresScopes, @policy, @cost, @listSize: enforced by the router, by name.
Policies = dict[str, dict[str, Any]]
POLICY_DIRECTIVES = ("authenticated", "requiresScopes", "policy", "cost", "listSize")


@dataclass(slots=True)
class FieldInfo:
    name: str
    type: str
    graphs: dict[str, FieldInGraph] = field(default_factory=dict)
    policies: Policies = field(default_factory=dict)


@dataclass(slots=True)
class TypeInfo:
    name: str
    kind: TypeKind
    graphs: dict[str, TypeInGraph] = field(default_factory=dict)
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    implements: dict[str, tuple[str, ...]] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    policies: Policies = field(default_factory=dict)
    contexts: tuple[str, ...] = ()  # @context names (`subgraph__name`) set on this type

    def key_fields(self, graph: str) -> frozenset[str]:
        in_graph = self.graphs.get(graph)
        if in_graph is None:
            return frozenset()
        return frozenset(name for key in in_graph.keys for name in key.top_level)


@dataclass(slots=True)
class Supergraph:
    """A supergraph as the planner needs it; `api_schema` is what clients validate against."""

    subgraphs: dict[str, SubgraphEndpoint]
    types: dict[str, TypeInfo]
    api_schema: GraphQLSchema
    sdl: str
    root_types: dict[str, str] = field(default_factory=dict)
    # Progressive @override labels switched on for the plan being built (see `with_labels`).
    active_labels: frozenset[str] = frozenset()

    @property
    def override_labels(self) -> frozenset[str]:
        """Every progressive @override label in the supergraph (`percent(25)`, `beta`, ...)."""
        return frozenset(
            in_graph.override_label
            for type_info in self.types.values()
            for field_info in type_info.fields.values()
            for in_graph in field_info.graphs.values()
            if in_graph.override_label is not None
        )

    def with_labels(self, labels: frozenset[str]) -> Supergraph:
        """The same supergraph, planned as if `labels` were switched on."""
        return dataclasses.replace(self, active_labels=labels)

    def resolves(self, type_name: str, field_name: str, graph: str) -> bool:
        """Whether `graph` returns `type_name.field_name` itself (not external, not overridden)."""
        type_info = self.types.get(type_name)
        if type_info is None or graph not in type_info.graphs:
            return False
        if field_name == "__typename":
            return True
        field_info = type_info.fields.get(field_name)
        in_graph = field_info.graphs.get(graph) if field_info else None
        if in_graph is None:
            return False
        if in_graph.external:
            # not even a key field: a Fed2 subgraph marking it @external cannot return it
            # (Fed1 key fields were unmarked at composition)
            return False
        if in_graph.used_overridden or self._label_excludes(in_graph):
            return field_name in type_info.key_fields(graph)
        return True

    def _label_excludes(self, in_graph: FieldInGraph) -> bool:
        """The overriding subgraph serves while its label is on; the overridden one when off."""
        if in_graph.override_label is None:
            return False
        active = in_graph.override_label in self.active_labels
        return active if in_graph.override is None else not active

    def graphs_resolving(self, type_name: str, field_name: str) -> list[str]:
        type_info = self.types.get(type_name)
        if type_info is None:
            return []
        return [g for g in sorted(type_info.graphs) if self.resolves(type_name, field_name, g)]

    def field_in(self, type_name: str, field_name: str, graph: str) -> FieldInGraph | None:
        type_info = self.types.get(type_name)
        field_info = type_info.fields.get(field_name) if type_info else None
        return field_info.graphs.get(graph) if field_info else None

    def interface_object_graphs(self, type_name: str, field_name: str) -> list[tuple[str, str]]:
        """(graph, interface) pairs where an @interfaceObject resolves `field_name` for objects
        of `type_name` through one of its interfaces."""
        type_info = self.types.get(type_name)
        if type_info is None:
            return []
        interfaces = sorted({i for names in type_info.implements.values() for i in names})
        found = []
        for interface in interfaces:
            interface_info = self.types.get(interface)
            if interface_info is None:
                continue
            for graph in self.graphs_resolving(interface, field_name):
                in_graph = interface_info.graphs[graph]
                if in_graph.interface_object and any(k.resolvable for k in in_graph.keys):
                    found.append((graph, interface))
        return found

    def possible_types(self, type_name: str, graph: str | None = None) -> list[str]:
        """Object types a value of `type_name` may have, in `graph` when given, sorted."""
        type_info = self.types.get(type_name)
        if type_info is None:
            return []
        if type_info.kind == "object":
            return [type_name]
        found: set[str] = set()
        for candidate in self.types.values():
            if candidate.kind != "object":
                continue
            graphs = [graph] if graph is not None else list(candidate.implements)
            if type_info.kind == "interface" and any(
                type_name in candidate.implements.get(g, ()) for g in graphs
            ):
                found.add(candidate.name)
        if type_info.kind == "union":
            graphs = [graph] if graph is not None else list(type_info.members)
            found.update(m for g in graphs for m in type_info.members.get(g, ()))
        return sorted(found)
