"""Path and query parameters (strings) to GraphQL variable values, by the variable's type.

Checked here rather than left to the router so a bad parameter gets a 400 naming the
parameter, and a malformed date never reaches a subgraph (custom scalars pass the router as is).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLScalarType

from graph.rest.schemas import INT32

_INTEGER = re.compile(r"^-?\d{1,10}$")


class BadParameter(Exception):
    """A parameter's value does not fit its type; the message names the parameter."""


def coerce_parameter(name: str, values: Sequence[str], graphql_type: Any) -> Any:
    """The variable value of parameter `name` given as `values` (repeated for lists)."""
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, GraphQLList):
        return [coerce_parameter(name, [value], graphql_type.of_type) for value in values]
    if len(values) != 1:
        raise BadParameter(f"Parameter `{name}` takes one value; got {len(values)}.")
    return coerce_scalar(name, values[0], graphql_type)


def coerce_scalar(name: str, text: str, graphql_type: Any) -> Any:
    if isinstance(graphql_type, GraphQLEnumType):
        if text not in graphql_type.values:
            allowed = ", ".join(graphql_type.values)
            raise BadParameter(f"Parameter `{name}` must be one of {allowed}; got {text!r}.")
        return text
    if not isinstance(graphql_type, GraphQLScalarType):
        raise BadParameter(f"Parameter `{name}` cannot be given in a URL.")
    match graphql_type.name:
        case "Int":
            if not _INTEGER.match(text) or not -INT32 - 1 <= int(text) <= INT32:
                raise BadParameter(f"Parameter `{name}` must be a 32-bit integer; got {text!r}.")
            return int(text)
        case "Float":
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise BadParameter(f"Parameter `{name}` must be a number; got {text!r}.")
            return number
        case "Boolean":
            if text not in ("true", "false"):
                raise BadParameter(f"Parameter `{name}` must be true or false; got {text!r}.")
            return text == "true"
        case "Date":
            return parse_date(name, text).isoformat()
        case "DateTime":
            try:
                return datetime.datetime.fromisoformat(text).isoformat()
            except ValueError:
                raise BadParameter(
                    f"Parameter `{name}` must be an ISO 8601 date-time; got {text!r}."
                ) from None
        case _:
            if not text:
                raise BadParameter(f"Parameter `{name}` must not be empty.")
            return text


_DESCRIBED = {
    "Int": "an integer",
    "Float": "a number",
    "Boolean": "true or false",
    "Date": "a date, YYYY-MM-DD",
    "DateTime": "an ISO 8601 date-time",
}


def described(graphql_type: Any) -> str:
    """What a parameter of `graphql_type` takes, as a message's tail (": a date, YYYY-MM-DD"),
    or nothing for text."""
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, GraphQLEnumType):
        return f": one of {', '.join(graphql_type.values)}"
    named = getattr(graphql_type, "name", None)
    return f": {_DESCRIBED[named]}" if named in _DESCRIBED else ""


def parse_date(name: str, text: str) -> datetime.date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(
            f"Parameter `{name}` must be a date, YYYY-MM-DD; got {text!r}."
        ) from None
