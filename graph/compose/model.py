"""One subgraph's schema, read into plain records with federation directives resolved by meaning.

Names are canonical (`key`, `shareable`, ...) whatever the subgraph imported them as, so the merge
step never deals with `@link` renames or Fed1 conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TypeKind = Literal["object", "interface", "union", "enum", "input", "scalar"]


@dataclass(frozen=True, slots=True)
class Key:
    fields: str
    resolvable: bool = True


@dataclass(slots=True)
class Argument:
    name: str
    type: str
    default: str | None = None
    description: str | None = None
    inaccessible: bool = False
    from_context: str | None = None  # @fromContext(field: "$context { selection }")


@dataclass(slots=True)
class Field:
    name: str
    type: str
    arguments: dict[str, Argument] = field(default_factory=dict)
    description: str | None = None
    deprecation: str | None = None  # the reason; "" when @deprecated has no reason
    deprecated: bool = False
    external: bool = False
    shareable: bool = False
    requires: str | None = None
    provides: str | None = None
    override: str | None = None
    override_label: str | None = None
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    default: str | None = None  # input fields only
    policies: tuple[tuple[str, dict[str, Any]], ...] = ()  # @authenticated, @cost, ...


@dataclass(slots=True)
class TypeDef:
    name: str
    kind: TypeKind
    description: str | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # union members
    values: dict[str, Field] = field(default_factory=dict)  # enum values (type is unused)
    shareable: bool = False
    extension: bool = False
    interface_object: bool = False
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    policies: tuple[tuple[str, dict[str, Any]], ...] = ()
    contexts: list[str] = field(default_factory=list)  # @context(name:) names


@dataclass(slots=True)
class SubgraphSchema:
    name: str
    url: str
    types: dict[str, TypeDef]
    fed1: bool
