"""Request limits checked on the parsed document, before any subgraph is called."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """Each limit is off when None."""

    max_depth: int | None = 15
    max_aliases: int | None = 30
    max_root_fields: int | None = 20
    max_document_bytes: int | None = 64 * 1024


class LimitExceeded(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_document_size(query: str, limits: RequestLimits) -> None:
    size = len(query.encode())
    if limits.max_document_bytes is not None and size > limits.max_document_bytes:
        raise LimitExceeded(
            "MAX_DOCUMENT_SIZE_EXCEEDED",
            f"The document is {size} bytes; the limit is {limits.max_document_bytes}. "
            "Send a smaller query (or use persisted queries).",
        )


def check_limits(
    document: DocumentNode, operation: OperationDefinitionNode, limits: RequestLimits
) -> None:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if limits.max_root_fields is not None:
        roots = _count_root_fields(operation.selection_set, fragments, set())
        if roots > limits.max_root_fields:
            raise LimitExceeded(
                "MAX_ROOT_FIELDS_EXCEEDED",
                f"The operation selects {roots} root fields; the limit is "
                f"{limits.max_root_fields}. Split it into several requests.",
            )
    if limits.max_aliases is not None:
        aliases = _count_aliases(operation.selection_set, fragments, set())
        if aliases > limits.max_aliases:
            raise LimitExceeded(
                "MAX_ALIASES_EXCEEDED",
                f"The operation uses {aliases} aliases; the limit is {limits.max_aliases}.",
            )
    if limits.max_depth is not None:
        depth = _depth(operation.selection_set, fragments, frozenset())
        if depth > limits.max_depth:
            raise LimitExceeded(
                "MAX_DEPTH_EXCEEDED",
                f"The operation is {depth} levels deep; the limit is {limits.max_depth}. "
                "Select fewer nested fields.",
            )


def _count_root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += 1
        elif isinstance(selection, InlineFragmentNode):
            count += _count_root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                seen.add(selection.name.value)
                count += _count_root_fields(fragment.selection_set, fragments, seen)
    return count


def _count_aliases(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += selection.alias is not None
            if selection.selection_set is not None:
                count += _count_aliases(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            count += _count_aliases(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                seen.add(selection.name.value)
                count += _count_aliases(fragment.selection_set, fragments, seen)
    return count


def _depth(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> int:
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below = 0
            if selection.selection_set is not None:
                below = _depth(selection.selection_set, fragments, visiting)
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in visiting:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                inner = visiting | {selection.name.value}
                deepest = max(deepest, _depth(fragment.selection_set, fragments, inner))
    return deepest
