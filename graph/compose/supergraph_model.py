"""The composed supergraph as records, ready to print: types with their `join__*` applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.compose.model import Argument, TypeKind


@dataclass(frozen=True, slots=True)
class JoinType:
    graph: str
    key: str | None = None
    resolvable: bool = True
    extension: bool = False
    interface_object: bool = False


@dataclass(frozen=True, slots=True)
class JoinField:
    graph: str
    type: str | None = None
    requires: str | None = None
    provides: str | None = None
    external: bool = False
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False
    # @fromContext arguments: (context, argument name, its type, the selection on the context)
    context_arguments: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(slots=True)
class SuperField:
    name: str
    type: str
    arguments: dict[str, Argument] = field(default_factory=dict)
    description: str | None = None
    deprecated: bool = False
    deprecation: str | None = None
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    default: str | None = None
    joins: list[JoinField] | None = None  # None: resolved wherever the type is
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    graphs: list[str] = field(default_factory=list)  # enum values only


@dataclass(slots=True)
class SuperType:
    name: str
    kind: TypeKind
    description: str | None = None
    join_types: list[JoinType] = field(default_factory=list)
    implements: list[tuple[str, str]] = field(default_factory=list)
    members: list[tuple[str, str]] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, SuperField] = field(default_factory=dict)
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    contexts: list[str] = field(default_factory=list)  # `subgraph__name` of each @context


@dataclass(slots=True)
class Graph:
    name: str
    enum_name: str
    url: str


@dataclass(slots=True)
class ComposedSupergraph:
    graphs: list[Graph]
    types: dict[str, SuperType]
