"""Fields fetched in one `_entities` call share one representation per object, so their
@requires must agree: a field required with different arguments (`weight(unit: "lb")` for one
field, `weight(unit: "kg")` for another) needs a call of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphql import print_ast

from graph.planner.fetch_graph import FieldSel, FragmentSel, SelectionSet, same_arguments
from graph.planner.operation import OperationField

Arguments = dict[str, str]  # field name -> its printed arguments


def _arguments(fields: Sequence[OperationField]) -> Arguments:
    return {
        f.name: ", ".join(sorted(print_ast(a) for a in f.arguments)) if f.arguments else ""
        for f in fields
    }


def _agree(first: Arguments, second: Arguments) -> bool:
    return all(first[name] == second[name] for name in first.keys() & second.keys())


def split_by_requirements(
    fields: Sequence[OperationField],
    required_of: Callable[[OperationField], list[OperationField]],
) -> list[list[OperationField]]:
    """`fields` in groups whose required fields agree on arguments, first fit, in order."""
    parts: list[tuple[list[OperationField], Arguments]] = []
    for field in fields:
        needed = _arguments(required_of(field))
        for members, arguments in parts:
            if _agree(arguments, needed):
                members.append(field)
                arguments.update(needed)
                break
        else:
            parts.append(([field], needed))
    return [members for members, _ in parts]


def representations_agree(first: SelectionSet, second: SelectionSet) -> bool:
    """Whether two representation selections can be sent as one: no field is asked for twice
    with different arguments (the representation carries it under its name only)."""
    by_name = {item.name: item for item in first.items.values() if isinstance(item, FieldSel)}
    for item in second.items.values():
        if isinstance(item, FragmentSel):
            other = first.items.get(f"... on {item.type_condition}")
            if isinstance(other, FragmentSel) and not representations_agree(
                other.selections, item.selections
            ):
                return False
            continue
        mine = by_name.get(item.name)
        if mine is None:
            continue
        if not same_arguments(mine.arguments, item.arguments):
            return False
        if (
            mine.selections is not None
            and item.selections is not None
            and not representations_agree(mine.selections, item.selections)
        ):
            return False
    return True
