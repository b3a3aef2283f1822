"""How long the router may keep a subgraph's answer, and for whom: the entity cache's policy.

Hints come from the supergraph (`@cacheControl(maxAge: 60, scope: PRIVATE)` on a type or a root
field, as Apollo's cache-control directive is written; composed in with `@composeDirective`)
and from `NEXUS_ENTITY_CACHE_HINTS` (`Token=60,Query.token=30,Watchlist=120:private`), which
wins. An entity's max-age is its type's hint; a root fetch's is the smallest of its root
fields' hints; without a hint, `NEXUS_ENTITY_CACHE_MAX_AGE`. A private entry is kept per caller;
every answer of a subgraph in `NEXUS_ENTITY_CACHE_PRIVATE_SUBGRAPHS` (default: platform, which
scopes its data to the caller's organisation) is private. Subgraphs in
`NEXUS_ENTITY_CACHE_UNCACHED_SUBGRAPHS` (default: platform, whose data callers write and expect
to read back at once) are never cached.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    value_from_ast_untyped,
)


class CacheConfigError(ValueError):
    """An entity cache setting that cannot be read; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Hint:
    max_age: int  # seconds; 0: never cached
    private: bool = False


@dataclass(frozen=True, slots=True)
class CachePolicy:
    enabled: bool = False
    default_max_age: int = 30
    hints: Mapping[str, Hint] = field(default_factory=dict)  # "Type" or "Query.field"
    private_subgraphs: frozenset[str] = frozenset({"platform"})
    max_entries: int = 10_000
    # Never cached: data callers write themselves and expect to read back at once.
    uncached_subgraphs: frozenset[str] = frozenset()

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, supergraph: DocumentNode | None = None
    ) -> CachePolicy:
        env = os.environ if env is None else env
        switch = env.get("NEXUS_ENTITY_CACHE", "off").strip().lower()
        if switch not in ("on", "off"):
            raise CacheConfigError("NEXUS_ENTITY_CACHE must be on or off")
        hints = dict(schema_hints(supergraph)) if supergraph is not None else {}
        hints.update(_parse_hints(env.get("NEXUS_ENTITY_CACHE_HINTS", "")))
        private = env.get("NEXUS_ENTITY_CACHE_PRIVATE_SUBGRAPHS", "platform")
        uncached = env.get("NEXUS_ENTITY_CACHE_UNCACHED_SUBGRAPHS", "platform")
        return cls(
            enabled=switch == "on",
            default_max_age=_seconds(env, "NEXUS_ENTITY_CACHE_MAX_AGE", 30),
            hints=hints,
            private_subgraphs=_names(private),
            max_entries=_seconds(env, "NEXUS_ENTITY_CACHE_MAX_ENTRIES", 10_000),
            uncached_subgraphs=_names(uncached),
        )

    def for_entity(self, service: str, type_name: str) -> Hint:
        if service in self.uncached_subgraphs:
            return Hint(0)
        hint = self.hints.get(type_name, Hint(self.default_max_age))
        return _scoped(hint, service in self.private_subgraphs)

    def for_root(self, service: str, root_type: str, fields: Iterable[str]) -> Hint:
        if service in self.uncached_subgraphs:
            return Hint(0)
        found = [
            self.hints[f"{root_type}.{name}"]
            for name in fields
            if f"{root_type}.{name}" in self.hints
        ]
        if not found:
            found = [Hint(self.default_max_age)]
        hint = Hint(min(h.max_age for h in found), any(h.private for h in found))
        return _scoped(hint, service in self.private_subgraphs)


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def _scoped(hint: Hint, private_subgraph: bool) -> Hint:
    return Hint(hint.max_age, True) if private_subgraph and not hint.private else hint


def schema_hints(document: DocumentNode) -> dict[str, Hint]:
    """`@cacheControl` hints written on the supergraph's object types and root fields."""
    hints: dict[str, Hint] = {}
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        hint = _cache_control(definition.directives or ())
        if hint is not None:
            hints[definition.name.value] = hint
        for field_node in definition.fields or ():
            assert isinstance(field_node, FieldDefinitionNode)
            hint = _cache_control(field_node.directives or ())
            if hint is not None:
                hints[f"{definition.name.value}.{field_node.name.value}"] = hint
    return hints


def _cache_control(directives: Iterable[object]) -> Hint | None:
    for directive in directives:
        name = getattr(getattr(directive, "name", None), "value", None)
        if name != "cacheControl":
            continue
        arguments = {
            a.name.value: value_from_ast_untyped(a.value)
            for a in getattr(directive, "arguments", None) or ()
        }
        max_age = arguments.get("maxAge")
        if not isinstance(max_age, int):
            return None
        return Hint(max(0, max_age), str(arguments.get("scope", "")).upper() == "PRIVATE")
    return None


def _parse_hints(text: str) -> dict[str, Hint]:
    hints: dict[str, Hint] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        seconds, _, scope = value.partition(":")
        if (
            not name.strip()
            or not seconds.strip().isdigit()
            or scope not in ("", "private", "public")
        ):
            raise CacheConfigError(
                "NEXUS_ENTITY_CACHE_HINTS takes Type=SECONDS or Query.field=SECONDS[:private], "
                f"comma-separated; got {item!r}"
            )
        hints[name.strip()] = Hint(int(seconds), scope == "private")
    return hints


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit():
        raise CacheConfigError(f"{name} must be a whole number, got {raw!r}")
    return int(raw)
