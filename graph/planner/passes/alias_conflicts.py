"""Pass: same-named fields a subgraph types differently get internal aliases.

A client may select `... on Stock { price } ... on Bond { price }` when the supergraph gives
both the same type, yet the subgraph says `Float!` for one and `Float` for the other: sent as
is, the subgraph refuses the request (fields that conflict). The later field gets an alias
(`price__alias_1`) and a `client_key`; the executor restores the client's key in the response.
"""

from __future__ import annotations

from graph.planner.fetch_graph import FetchGraph, FieldSel, FragmentSel, SelectionSet


def alias_conflicts(fetch_graph: FetchGraph) -> bool:
    changed = False
    for group in fetch_graph.groups:
        changed = _resolve([group.selections]) or changed
    return changed


def _fields(selection_set: SelectionSet) -> list[tuple[SelectionSet, FieldSel]]:
    """The fields of `selection_set` and of its fragments, each with the set holding it."""
    found: list[tuple[SelectionSet, FieldSel]] = []
    for item in selection_set.items.values():
        if isinstance(item, FragmentSel):
            found += _fields(item.selections)
        else:
            found.append((selection_set, item))
    return found


def _resolve(selection_sets: list[SelectionSet]) -> bool:
    """Alias conflicts among fields merged into one response object (`selection_sets` and their
    fragments), then below them."""
    by_key: dict[str, list[tuple[SelectionSet, FieldSel]]] = {}
    for selection_set in selection_sets:
        for holder, field in _fields(selection_set):
            by_key.setdefault(field.alias or field.name, []).append((holder, field))
    changed = False
    for key, fields in by_key.items():
        first_type = next((f.graph_type for _, f in fields if f.graph_type), None)
        kept: list[FieldSel] = []
        for index, (holder, field) in enumerate(fields):
            if field.graph_type in (None, first_type) or field.client_key is not None:
                kept.append(field)
                continue
            alias = f"{key}__alias_{index}"
            holder.items = {
                (alias if item is field else name): item for name, item in holder.items.items()
            }
            field.client_key, field.alias = key, alias
            changed = True
            if field.selections is not None:
                changed = _resolve([field.selections]) or changed
        below = [f.selections for f in kept if f.selections is not None]
        if below:
            changed = _resolve(below) or changed
    return changed
