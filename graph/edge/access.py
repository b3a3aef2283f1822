"""@authenticated and @requiresScopes (Federation 2.5), enforced before any fetch.

The supergraph carries both directives on fields and types (the type's requirement applies to
every field returning it). For one document we list the guarded selections once (cached by the
document); for each caller we keep those it may not see. A denied field is removed from the
document that is planned, so no subgraph is asked for it, and comes back null with an
UNAUTHENTICATED (anonymous caller) or FORBIDDEN (missing scope) error carrying its `path`;
the rest of the operation runs.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    print_ast,
)

from graph.supergraph import Supergraph
from nexus.auth.caller import Caller

_TYPENAME = FieldNode(name=NameNode(value="__typename"))


@dataclass(frozen=True, slots=True)
class Requirement:
    authenticated: bool
    # Alternatives of scope sets: the caller must hold every scope of at least one set.
    scopes: tuple[frozenset[str], ...]

    def denial(self, caller: Caller) -> str | None:
        """The error code that refuses `caller`, or None when it is allowed."""
        if self.authenticated and not caller.authenticated:
            return "UNAUTHENTICATED"
        if self.scopes and not any(needed <= caller.scopes for needed in self.scopes):
            return "FORBIDDEN" if caller.authenticated else "UNAUTHENTICATED"
        return None

    def describe(self) -> str:
        if not self.scopes:
            return "an authenticated caller"
        alternatives = [" and ".join(f"`{s}`" for s in sorted(group)) for group in self.scopes]
        return "the scope " + " or ".join(alternatives)


@dataclass(frozen=True, slots=True)
class Guard:
    node: FieldNode
    coordinate: str  # Type.field
    path: tuple[str, ...]  # response keys from the root
    requirement: Requirement


@dataclass(frozen=True, slots=True)
class Denied:
    document: DocumentNode  # the document without the denied fields
    text: str  # that document, printed (its plan and cost cache key)
    errors: tuple[dict[str, Any], ...]


class AccessControl:
    """The guards of each document (an LRU cache) and the filtered documents per caller."""

    def __init__(self, supergraph: Supergraph, cache_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.cache_size = cache_size
        self.enabled = _any_guard(supergraph)
        self._guards: OrderedDict[tuple[str, str | None], tuple[Guard, ...]] = OrderedDict()
        self._filtered: OrderedDict[
            tuple[str, str | None, frozenset[int]], tuple[DocumentNode, str]
        ] = OrderedDict()

    def check(
        self,
        text: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        caller: Caller,
    ) -> Denied | None:
        """None when `caller` may see every field of the operation."""
        if not self.enabled:
            return None
        name = operation.name.value if operation.name else None
        guards = self._guards.get((text, name))
        if guards is None:
            guards = self._guards[(text, name)] = tuple(self._walk(document, operation))
            _bound(self._guards, self.cache_size)
        if not guards:
            return None
        denied = [(guard, code) for guard in guards if (code := guard.requirement.denial(caller))]
        if not denied:
            return None
        nodes = frozenset(id(guard.node) for guard, _ in denied)
        key = (text, name, nodes)
        filtered = self._filtered.get(key)
        if filtered is None:
            pruned = _without(document, nodes)
            filtered = self._filtered[key] = (pruned, print_ast(pruned))
            _bound(self._filtered, self.cache_size)
        errors: list[dict[str, Any]] = []
        seen: set[tuple[str, ...]] = set()
        for guard, code in denied:
            if guard.path in seen:
                continue
            seen.add(guard.path)
            errors.append(
                {
                    "message": f"`{guard.coordinate}` requires {guard.requirement.describe()}"
                    + (
                        "; send an API key or a bearer token."
                        if code == "UNAUTHENTICATED"
                        else "; the caller's key or token does not carry it."
                    ),
                    "path": list(guard.path),
                    "extensions": {"code": code},
                }
            )
        return Denied(filtered[0], filtered[1], tuple(errors))

    def _walk(self, document: DocumentNode, operation: OperationDefinitionNode) -> list[Guard]:
        schema = self.supergraph.api_schema
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = schema.get_root_type(operation.operation)
        guards: list[Guard] = []
        if root is None:
            return guards

        def walk(
            selection_set: SelectionSetNode,
            parent: str,
            path: tuple[str, ...],
            visiting: frozenset[str],
        ) -> None:
            parent_type = schema.get_type(parent)
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if name.startswith("__") or not isinstance(
                        parent_type, GraphQLObjectType | GraphQLInterfaceType
                    ):
                        continue
                    definition = parent_type.fields.get(name)
                    if definition is None:
                        continue
                    returned = get_named_type(definition.type).name
                    key = (selection.alias or selection.name).value
                    requirement = self._requirement(parent, name, returned)
                    if requirement is not None:
                        guards.append(
                            Guard(selection, f"{parent}.{name}", (*path, key), requirement)
                        )
                    if selection.selection_set is not None:
                        walk(selection.selection_set, returned, (*path, key), visiting)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    walk(
                        selection.selection_set,
                        condition.name.value if condition else parent,
                        path,
                        visiting,
                    )
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = fragments.get(selection.name.value)
                    if fragment is not None and fragment.name.value not in visiting:
                        walk(
                            fragment.selection_set,
                            fragment.type_condition.name.value,
                            path,
                            visiting | {fragment.name.value},
                        )

        walk(operation.selection_set, root.name, (), frozenset())
        return guards

    def _requirement(self, parent: str, field: str, returned: str) -> Requirement | None:
        policies: list[dict[str, dict[str, object]]] = []
        parent_info = self.supergraph.types.get(parent)
        if parent_info is not None:
            field_info = parent_info.fields.get(field)
            if field_info is not None:
                policies.append(field_info.policies)
        returned_info = self.supergraph.types.get(returned)
        if returned_info is not None:
            policies.append(returned_info.policies)
        return _requirement(policies)


def _requirement(policies: Iterable[dict[str, dict[str, object]]]) -> Requirement | None:
    authenticated = False
    scopes: tuple[frozenset[str], ...] = ()
    for applied in policies:
        authenticated = authenticated or "authenticated" in applied
        required = applied.get("requiresScopes")
        if required is not None:
            groups = tuple(frozenset(map(str, g)) for g in required.get("scopes") or ())  # type: ignore[attr-defined]
            # Both the field's and the type's scopes must hold: combine the alternatives.
            scopes = tuple({a | b for a in scopes for b in groups}) if scopes else groups
    if not authenticated and not scopes:
        return None
    return Requirement(authenticated, scopes)


def _any_guard(supergraph: Supergraph) -> bool:
    names = ("authenticated", "requiresScopes")
    for info in supergraph.types.values():
        if any(n in info.policies for n in names):
            return True
        for field in info.fields.values():
            if any(n in field.policies for n in names):
                return True
    return False


def _without(document: DocumentNode, denied: frozenset[int]) -> DocumentNode:
    """`document` without the denied field selections (an emptied selection set keeps
    `__typename`, so the document stays valid)."""

    def prune(selection_set: SelectionSetNode) -> SelectionSetNode:
        kept: list[SelectionNode] = []
        for selection in selection_set.selections:
            if id(selection) in denied:
                continue
            if isinstance(selection, FieldNode | InlineFragmentNode) and (
                selection.selection_set is not None
            ):
                selection = dataclasses.replace(
                    selection, selection_set=prune(selection.selection_set)
                )
            kept.append(selection)
        return dataclasses.replace(selection_set, selections=tuple(kept or [_TYPENAME]))

    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            definition = dataclasses.replace(
                definition, selection_set=prune(definition.selection_set)
            )
        definitions.append(definition)
    return dataclasses.replace(document, definitions=tuple(definitions))


def _bound(cache: OrderedDict[Any, Any], size: int) -> None:
    if len(cache) > size:
        cache.popitem(last=False)
