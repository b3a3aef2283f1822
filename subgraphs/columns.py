"""Column scalars: a whole list of numbers (or flags) as ONE GraphQL value.

graphql-core coerces and serialises a `[Float!]!` entry by entry (a few microseconds each),
in the router and again in the subgraph, which made 10,000 options' inputs and eight output
columns cost seconds (benchmarks/analytics.py). A column scalar is a JSON array checked and
converted in one step (NumPy), so large numeric answers cost what their JSON costs. They stay
plain JSON arrays on the wire: `FloatColumn` is `number[]`, `BooleanColumn` is `boolean[]`,
`DateColumn` is `string[]` of ISO dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NewType

import numpy as np
import strawberry
from graphql import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    StringValueNode,
    ValueNode,
)
from strawberry.types.scalar import ScalarDefinition


def _column(value: Any, kinds: str, what: str) -> np.ndarray:
    """`value` as an array if it is a flat JSON array of the right kind (checked by NumPy's
    inferred dtype, in C: strings, nulls, nested lists or booleans-as-numbers are refused)."""
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a JSON array of {what}")
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting
        raise TypeError(f"expected a flat JSON array of {what}") from error
    if array.ndim != 1 or (array.size and array.dtype.kind not in kinds):
        raise TypeError(f"expected a flat JSON array of {what}")
    return array


def _floats(value: Any) -> np.ndarray:
    array = _column(value, "iuf", "numbers")
    if bool in set(map(type, value)):  # NumPy would read true as 1.0
        raise TypeError("expected a flat JSON array of numbers, not true/false")
    return array.astype(np.float64)


def _flags(value: Any) -> np.ndarray:
    return _column(value, "b", "true/false").astype(bool)


def _serialize(value: Any) -> list[Any]:
    return value.tolist() if isinstance(value, np.ndarray) else list(value)


def _float_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> np.ndarray:
    if not isinstance(node, ListValueNode) or any(
        not isinstance(item, FloatValueNode | IntValueNode) for item in node.values
    ):
        raise TypeError("a FloatColumn literal is a list of numbers")
    return np.array([float(item.value) for item in node.values])  # type: ignore[attr-defined]


def _flag_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> np.ndarray:
    if not isinstance(node, ListValueNode) or any(
        not isinstance(item, BooleanValueNode) for item in node.values
    ):
        raise TypeError("a BooleanColumn literal is a list of true/false")
    return np.array([item.value for item in node.values], dtype=bool)  # type: ignore[attr-defined]


def _dates(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a flat JSON array of ISO dates (YYYY-MM-DD)")
    for day in value:
        dt.date.fromisoformat(day)  # ValueError names the bad one
    return list(value)


def _date_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> list[str]:
    if not isinstance(node, ListValueNode) or any(
        not isinstance(item, StringValueNode) for item in node.values
    ):
        raise TypeError("a DateColumn literal is a list of ISO date strings")
    return _dates([item.value for item in node.values])  # type: ignore[attr-defined]


def _serialize_dates(value: Any) -> list[str]:
    return [day if isinstance(day, str) else day.isoformat() for day in value]


FloatColumn = NewType("FloatColumn", np.ndarray)
DateColumn = NewType("DateColumn", list)
BooleanColumn = NewType("BooleanColumn", np.ndarray)

# A subgraph using the columns passes this as `StrawberryConfig(scalar_map=COLUMN_SCALARS)`.
COLUMN_SCALARS: dict[object, ScalarDefinition] = {
    FloatColumn: strawberry.scalar(
        name="FloatColumn",
        description="A column of numbers as one value: a JSON array of numbers (number[]).",
        serialize=_serialize,
        parse_value=_floats,
        parse_literal=_float_literal,
    ),
    DateColumn: strawberry.scalar(
        name="DateColumn",
        description="A column of days as one value: a JSON array of ISO 8601 dates "
        "(YYYY-MM-DD strings, string[]).",
        serialize=_serialize_dates,
        parse_value=_dates,
        parse_literal=_date_literal,
    ),
    BooleanColumn: strawberry.scalar(
        name="BooleanColumn",
        description="A column of flags as one value: a JSON array of true/false (boolean[]).",
        serialize=_serialize,
        parse_value=_flags,
        parse_literal=_flag_literal,
    ),
}


def column(values: Any) -> FloatColumn:
    """`values` (a list or an array of numbers) as a FloatColumn answer."""
    return FloatColumn(np.asarray(values, dtype=np.float64))
