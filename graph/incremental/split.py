"""Split an operation with `@defer` into the primary operation and one operation per fragment.

Every fragment spread is inlined first (`...F` is `... on T { F's selections }` with the
spread's directives), so the split only meets inline fragments. An active `@defer` (its `if` is
true, the default) is removed from the primary operation; its deferred operation keeps the path
from the root down to the fragment (each ancestor field with its alias, arguments and
directives, selecting only the next step) and the fragment's own selections. Each operation is
planned by the ordinary planner, so a deferred fragment becomes its own fetches. Nested `@defer`
fragments are parts of their own, delivered after the fragment that holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

DEFER = "defer"

Ancestor = FieldNode | InlineFragmentNode
# Stands in for a selection set whose every selection was deferred; never shown to the client.
PLACEHOLDER_KEY = "_deferredTypename"
PLACEHOLDER = FieldNode(alias=NameNode(value=PLACEHOLDER_KEY), name=NameNode(value="__typename"))


@dataclass(frozen=True, slots=True)
class DeferredPart:
    """One deferred fragment: delivered for every object at `path` once `document` has run."""

    label: str | None
    path: tuple[str, ...]  # response keys from the root to the objects the fragment applies to
    document: DocumentNode | None  # None while being built
    parent: int | None  # the index of the deferred part holding this one, if nested


@dataclass(frozen=True, slots=True)
class DeferSplit:
    primary: DocumentNode
    deferred: tuple[DeferredPart, ...]


def split_deferred(
    document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> DeferSplit:
    """The primary operation and the deferred parts of `operation` (validated, variables
    coerced); with no active `@defer`, no parts and the operation without any `@defer`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    inlined = _inline(operation.selection_set, fragments)
    parts: list[DeferredPart] = []

    def strip(
        selection_set: SelectionSetNode, ancestors: tuple[Ancestor, ...], parent: int | None
    ) -> SelectionSetNode:
        """`selection_set` without its active deferred fragments, each recorded as a part."""
        kept: list[SelectionNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                directives = _without_defer(selection)
                active = _defer(selection, variables)
                if active is not None:
                    index = len(parts)
                    parts.append(DeferredPart(active.label, _path(ancestors), None, parent))
                    # A nested part keeps this fragment's type condition on its path.
                    shell = _replaced(selection, selection.selection_set, directives)
                    inner = strip(selection.selection_set, (*ancestors, shell), index)
                    fragment = _replaced(selection, inner, directives)
                    parts[index] = DeferredPart(
                        active.label,
                        _path(ancestors),
                        _wrapped(operation, (*ancestors, fragment)),
                        parent,
                    )
                    continue
                inner = strip(selection.selection_set, (*ancestors, selection), parent)
                kept.append(_replaced(selection, inner, directives))
            elif isinstance(selection, FieldNode) and selection.selection_set is not None:
                inner = strip(selection.selection_set, (*ancestors, selection), parent)
                kept.append(_replaced(selection, inner, selection.directives))
            else:
                kept.append(selection)
        if not kept:  # every selection was deferred: a selection set cannot be empty
            kept.append(PLACEHOLDER)
        return SelectionSetNode(selections=tuple(kept))

    primary = strip(inlined, (), None)
    primary_operation = _with_selections(operation, primary)
    return DeferSplit(DocumentNode(definitions=(primary_operation,)), tuple(parts))


@dataclass(frozen=True, slots=True)
class _Active:
    label: str | None


def _defer(fragment: InlineFragmentNode, variables: Mapping[str, Any]) -> _Active | None:
    """The fragment's `@defer` when it applies (`if` true or absent), else None."""
    for directive in fragment.directives or ():
        if directive.name.value != DEFER:
            continue
        arguments = {
            a.name.value: value_from_ast_untyped(a.value, dict(variables))
            for a in directive.arguments or ()
        }
        if arguments.get("if", True) is False:
            return None
        label = arguments.get("label")
        return _Active(str(label) if label is not None else None)
    return None


def _without_defer(fragment: InlineFragmentNode) -> tuple[DirectiveNode, ...]:
    return tuple(d for d in fragment.directives or () if d.name.value != DEFER)


def _replaced(selection: Ancestor, selection_set: SelectionSetNode, directives: Any) -> Ancestor:
    if isinstance(selection, FieldNode):
        return FieldNode(
            alias=selection.alias,
            name=selection.name,
            arguments=selection.arguments,
            directives=directives,
            selection_set=selection_set,
        )
    return InlineFragmentNode(
        type_condition=selection.type_condition,
        directives=directives,
        selection_set=selection_set,
    )


def _path(ancestors: tuple[Ancestor, ...]) -> tuple[str, ...]:
    return tuple((a.alias or a.name).value for a in ancestors if isinstance(a, FieldNode))


def _wrapped(operation: OperationDefinitionNode, chain: tuple[Ancestor, ...]) -> DocumentNode:
    """The operation selecting only `chain`: each ancestor holds just the next one, the last
    keeps its own selections."""
    inner = SelectionSetNode(selections=(chain[-1],))
    for ancestor in reversed(chain[:-1]):
        inner = SelectionSetNode(selections=(_replaced(ancestor, inner, ancestor.directives),))
    return DocumentNode(definitions=(_with_selections(operation, inner),))


def _with_selections(
    operation: OperationDefinitionNode, selection_set: SelectionSetNode
) -> OperationDefinitionNode:
    return OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=selection_set,
    )


def _inline(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> SelectionSetNode:
    """`selection_set` with every fragment spread replaced by the inline fragment it means."""
    selections: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            definition = fragments[selection.name.value]
            selections.append(
                InlineFragmentNode(
                    type_condition=definition.type_condition,
                    directives=selection.directives,
                    selection_set=_inline(definition.selection_set, fragments),
                )
            )
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            selections.append(
                _replaced(
                    selection, _inline(selection.selection_set, fragments), selection.directives
                )
            )
        else:
            selections.append(selection)
    return SelectionSetNode(selections=tuple(selections))
