"""Request limits checked on the parsed document, before any subgraph is called.

Everything is counted on the operation as it would execute: a fragment spread counts the
fragment's fields and aliases every time it is spread. Each fragment is measured once and its
totals reused (memoised), so fragments that spread each other twice per level, which double the
executed size per level, are counted in time linear in the document, with Python integers that
cannot overflow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)


def checks_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """NEXUS_HARDENING_CHECKS=off, for benchmarks only (to measure what the checks cost normal
    traffic, side by side): no request limit, no input check, no HTTP body or header guard."""
    env = os.environ if environ is None else environ
    value = env.get("NEXUS_HARDENING_CHECKS", "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"NEXUS_HARDENING_CHECKS must be `on` or `off`, not {value!r}")
    return value == "on"


# Argument names that bound the length of a list field.
LIST_SIZE_ARGUMENTS = ("limit", "first", "last")


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """Each limit is off when None. Read from the environment with `from_env`."""

    max_depth: int | None = 15
    max_aliases: int | None = 30
    max_root_fields: int | None = 20
    max_document_bytes: int | None = 64 * 1024
    # Fields the operation executes per object (fragments counted per spread).
    max_fields: int | None = 1_000
    # Objects the operation may resolve: the sum over fields of the product of the sizes of
    # the lists above them (sizes from limit/first/last arguments, their defaults, or
    # `assumed_list_size` for a list that takes none).
    max_list_fan_out: int | None = 20_000
    assumed_list_size: int = 10
    # Sizes known for lists without a size argument, as `Type.field`: every series (about 50),
    # and a year of daily observations (what one series' range typically returns).
    list_sizes: tuple[tuple[str, int], ...] = (
        ("Query.allSeries", 60),
        ("Series.observations", 250),
    )
    max_response_bytes: int | None = 16 * 1024 * 1024
    time_budget_seconds: float | None = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RequestLimits:
        """`NEXUS_MAX_DEPTH`, `NEXUS_MAX_ALIASES`, ...: one variable per field, `off` disables."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if not checks_enabled(env):
            for spec in fields(cls):
                if spec.name not in ("assumed_list_size", "list_sizes"):
                    values[spec.name] = None
            return cls(**values)
        for spec in fields(cls):
            if spec.name == "list_sizes":
                continue
            name = "NEXUS_" + spec.name.upper()
            text = env.get(name, "").strip().lower()
            if not text:
                continue
            if text == "off" and spec.name != "assumed_list_size":
                values[spec.name] = None
                continue
            number = float(text) if spec.name == "time_budget_seconds" else int(text)
            if number <= 0:
                raise ValueError(f"{name} must be a positive number or `off`, not {text!r}")
            values[spec.name] = number
        sizes = env.get("NEXUS_LIST_SIZES", "").strip()
        if sizes:  # `Type.field=N,Type.field=N`
            values["list_sizes"] = tuple(
                (key.strip(), int(size))
                for key, _, size in (p.partition("=") for p in sizes.split(","))
            )
        return cls(**values)


class LimitExceeded(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_document_size(query: str, limits: RequestLimits) -> None:
    # UTF-8 with surrogatepass: a lone surrogate must be measured, not raise (the input check
    # refuses it with BAD_USER_INPUT later).
    size = len(query.encode("utf-8", "surrogatepass"))
    if limits.max_document_bytes is not None and size > limits.max_document_bytes:
        raise LimitExceeded(
            "MAX_DOCUMENT_SIZE_EXCEEDED",
            f"The document is {size} bytes; the limit is {limits.max_document_bytes}. "
            "Send a smaller query (or use persisted queries).",
        )


@dataclass(frozen=True, slots=True)
class _Measure:
    fields: int  # fields executed
    aliases: int
    depth: int
    roots: int  # fields at this selection set's own level


class _Counter:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, _Measure] = {}
        self.visiting: set[str] = set()

    def measure(self, selection_set: SelectionSetNode) -> _Measure:
        total_fields = aliases = depth = roots = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below = (
                    self.measure(selection.selection_set)
                    if selection.selection_set is not None
                    else _Measure(0, 0, 0, 0)
                )
                total_fields += 1 + below.fields
                aliases += (selection.alias is not None) + below.aliases
                depth = max(depth, 1 + below.depth)
                roots += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.measure(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value)
            else:  # pragma: no cover - the three selection kinds are exhaustive
                continue
            total_fields += inner.fields
            aliases += inner.aliases
            depth = max(depth, inner.depth)
            roots += inner.roots
        return _Measure(total_fields, aliases, depth, roots)

    def _fragment(self, name: str) -> _Measure:
        cached = self.memo.get(name)
        if cached is not None:
            return cached
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:  # unknown or cyclic: validation refuses
            return _Measure(0, 0, 0, 0)
        self.visiting.add(name)
        measured = self.measure(fragment.selection_set)
        self.visiting.discard(name)
        self.memo[name] = measured
        return measured


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def check_limits(
    document: DocumentNode, operation: OperationDefinitionNode, limits: RequestLimits
) -> None:
    measured = _Counter(_fragments(document)).measure(operation.selection_set)
    if limits.max_root_fields is not None and measured.roots > limits.max_root_fields:
        raise LimitExceeded(
            "MAX_ROOT_FIELDS_EXCEEDED",
            f"The operation selects {measured.roots} root fields; the limit is "
            f"{limits.max_root_fields}. Split it into several requests.",
        )
    if limits.max_aliases is not None and measured.aliases > limits.max_aliases:
        raise LimitExceeded(
            "MAX_ALIASES_EXCEEDED",
            f"The operation uses {_count(measured.aliases)} aliases (fragments counted each "
            f"time they are spread); the limit is {limits.max_aliases}.",
        )
    if limits.max_depth is not None and measured.depth > limits.max_depth:
        raise LimitExceeded(
            "MAX_DEPTH_EXCEEDED",
            f"The operation is {measured.depth} levels deep; the limit is {limits.max_depth}. "
            "Select fewer nested fields.",
        )
    if limits.max_fields is not None and measured.fields > limits.max_fields:
        raise LimitExceeded(
            "MAX_FIELDS_EXCEEDED",
            f"The operation selects {_count(measured.fields)} fields (fragments counted each "
            f"time they are spread); the limit is {limits.max_fields}.",
        )


def _count(number: int) -> str:
    """A count for a message: exact when it is readable, else its order of magnitude."""
    return f"{number:,}" if number < 10**12 else f"about 10^{len(str(number)) - 1}"


def check_list_fan_out(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    limits: RequestLimits,
) -> None:
    """Refuse an operation whose nested lists could resolve more than `max_list_fan_out`
    objects: `posts(limit: 100) { similar(limit: 100) { similar(limit: 10) } }` is 110,100."""
    if limits.max_list_fan_out is None:
        return
    root = schema.get_root_type(operation.operation)
    if root is None:
        return
    fan_out = _FanOut(
        schema, _fragments(document), variables, limits.assumed_list_size, dict(limits.list_sizes)
    )
    total = fan_out.objects(operation.selection_set, root)
    if total > limits.max_list_fan_out:
        raise LimitExceeded(
            "MAX_LIST_FAN_OUT_EXCEEDED",
            f"The operation could resolve {_count(total)} objects through nested lists; the "
            f"limit is {limits.max_list_fan_out:,}. Lower the `limit`/`first` arguments of "
            "nested lists or split the request.",
        )


class _FanOut:
    """Objects resolved per selection set, for one instance of its parent (memoised per
    fragment and type, so doubling fragments stay linear to count)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        assumed: int,
        known: dict[str, int],
    ) -> None:
        self.schema = schema
        self.known = known
        self.fragments = fragments
        self.variables = variables
        self.assumed = assumed
        self.memo: dict[tuple[str, str], int] = {}
        self.visiting: set[tuple[str, str]] = set()

    def objects(self, selection_set: SelectionSetNode, parent: Any) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.objects(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> int:
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        key = (name, fragment.type_condition.name.value)
        if key in self.memo:
            return self.memo[key]
        if key in self.visiting:
            return 0
        self.visiting.add(key)
        inner = self.schema.get_type(key[1])
        count = self.objects(fragment.selection_set, inner) if inner is not None else 0
        self.visiting.discard(key)
        self.memo[key] = count
        return count

    def _field(self, node: FieldNode, parent: Any) -> int:
        fields_of = getattr(parent, "fields", None)
        definition = fields_of.get(node.name.value) if isinstance(fields_of, dict) else None
        if definition is None or node.selection_set is None:
            return 0  # leaves are counted by max_fields; fan-out counts objects
        size = 1
        field_type = definition.type
        while isinstance(field_type, GraphQLNonNull | GraphQLList):
            if isinstance(field_type, GraphQLList):
                size *= self._list_size(node, definition, parent)
            field_type = field_type.of_type
        named = get_named_type(field_type)
        below = self.objects(node.selection_set, named)
        return size * (1 + below)

    def _list_size(self, node: FieldNode, definition: Any, parent: Any) -> int:
        if isinstance(parent, GraphQLObjectType) and parent.name.startswith("__"):
            return 1  # introspection: the schema's own size
        known = self.known.get(f"{getattr(parent, 'name', '')}.{node.name.value}")
        for name in LIST_SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            for argument in node.arguments or ():
                if argument.name.value != name:
                    continue
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(1, int(value.value))
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int):
                        return max(1, given)
            default = definition.args[name].default_value
            if isinstance(default, int):
                return max(1, default)
        return known if known is not None else self.assumed
