"""Checks of analytics arguments before any engine runs: one BAD_USER_INPUT naming the item.

The error's `extensions` carry `argument` (the GraphQL argument), and for list items `index`
and `field`, so a client can point at the offending value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nexus.errors import BadUserInput


def reject(
    message: str, *, argument: str, index: int | None = None, field: str | None = None
) -> None:
    where: dict[str, object] = {"argument": argument}
    if index is not None:
        where["index"] = index
    if field is not None:
        where["field"] = field
    raise BadUserInput(message, **where)


def check_number(
    value: float,
    *,
    argument: str,
    low: float,
    high: float,
    low_open: bool = False,
    index: int | None = None,
    field: str | None = None,
) -> None:
    """`value` must be finite and within [low, high] (`(low, high]` with `low_open`)."""
    name = (
        argument
        if index is None
        else f"{argument}[{index}].{field}"
        if field
        else f"{argument}[{index}]"
    )
    if not math.isfinite(value):
        reject(
            f"`{name}` is {value}: give a finite number.",
            argument=argument,
            index=index,
            field=field,
        )
    if value > high or value < low or (low_open and value == low):
        bounds = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
        reject(
            f"`{name}` is {value:g}: it must be {bounds}.",
            argument=argument,
            index=index,
            field=field,
        )


def check_list(values: Sequence[object], *, argument: str, most: int) -> None:
    if not values:
        reject(f"`{argument}` is empty: give at least one item.", argument=argument)
    if len(values) > most:
        reject(
            f"`{argument}` has {len(values):,} items: at most {most:,} per request.",
            argument=argument,
        )


def check_tenors(tenors: Sequence[float], *, argument: str = "tenors") -> tuple[float, ...]:
    """Maturities in years, each in [0, 100]; returned as a tuple to key a loader."""
    check_list(tenors, argument=argument, most=1_000)
    for index, tenor in enumerate(tenors):
        check_number(tenor, argument=argument, index=index, low=0.0, high=100.0)
    return tuple(float(t) for t in tenors)
