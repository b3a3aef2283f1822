"""Relay cursor pagination over a read's sort key (keyset pages).

`PageInfo` is the shared, @shareable one of `subgraphs/pages.py`; these connections differ
from its position-paged lists in their cursor: here it is the sort key of the last row a
client saw (base64url of a JSON array), so the next page is a keyset read (`WHERE key <
cursor`): rows inserted while a client pages never shift or repeat what it gets, and no page
costs more than its own rows. Pages are read one row longer than asked, to know whether
another follows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.federation.schema_directives import ListSize

from nexus.errors import BadUserInput
from subgraphs.pages import PageInfo  # @shareable: one PageInfo for every subgraph

MAX_PAGE = 100
CURSOR_PREFIX = "v1:"

T = TypeVar("T")

First = Annotated[
    int, strawberry.argument(description=f"Most items on this page, 1 to {MAX_PAGE}.")
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return the items after this cursor (a previous page's `pageInfo.endCursor` "
        "or an edge's `cursor`); null starts from the first item."
    ),
]


def encode_cursor(key: Sequence[Any]) -> str:
    text = CURSOR_PREFIX + json.dumps(list(key), separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def int_part(part: Any) -> int:
    """A non-negative 64-bit integer in a cursor (block numbers, log indexes), checked."""
    if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < 2**63:
        raise TypeError(part)
    return part


def text_part(part: Any) -> str:
    if not isinstance(part, str):
        raise TypeError(part)
    return part


def date_part(part: Any) -> str:
    """An ISO date in a cursor, checked (the read passes it on as a Date parameter)."""
    return dt.date.fromisoformat(text_part(part)).isoformat()


def timestamp_part(part: Any) -> str:
    """A millisecond UTC time in a cursor ('YYYY-MM-DD HH:MM:SS.fff'), checked."""
    at = dt.datetime.strptime(text_part(part), "%Y-%m-%d %H:%M:%S.%f")
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]


def decode_cursor(cursor: str | None, parts: Sequence[Callable[[Any], Any]]) -> list[Any] | None:
    """The sort key in `cursor`, each part read by its `parts` parser; BadUserInput if it is
    not a cursor this field handed out."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(text)
        key = json.loads(text.removeprefix(CURSOR_PREFIX))
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError(text)
        return [parse(part) for parse, part in zip(parts, key, strict=True)]
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadUserInput(
            "`after` is not a cursor of this list: pass a `cursor` or `pageInfo.endCursor` "
            "from a previous page of the same field, or null to start over.",
            argument="after",
        ) from None


def decode_int_cursor(cursor: str | None, size: int) -> list[int] | None:
    """An all-integer sort key of `size` parts (see decode_cursor)."""
    return decode_cursor(cursor, [int_part] * size)


def checked_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(
            f"`first` must be between 1 and {MAX_PAGE}, not {first}; page on with `after`.",
            argument="first",
        )
    return first


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Up to `first` rows of a keyset read (read with `first + 1`), each with its sort key."""

    rows: list[tuple[T, Sequence[Any]]]
    has_next: bool
    after: str | None

    @classmethod
    def of(cls, rows: Sequence[tuple[T, Sequence[Any]]], first: int, after: str | None) -> Page[T]:
        return cls(list(rows[:first]), len(rows) > first, after)


def page_info(page: Page[Any]) -> PageInfo:
    return cursor_page_info([encode_cursor(key) for _, key in page.rows], page.has_next, page.after)


def cursor_page_info(cursors: Sequence[str], has_next: bool, after: str | None) -> PageInfo:
    """`pageInfo` for a page whose items' `cursors` are already encoded."""
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def connection_sized() -> ListSize:
    """Demand control for a connection: `edges` holds at most `first` items."""
    return ListSize(  # type: ignore[call-arg]
        slicing_arguments=["first"], sized_fields=["edges"], require_one_slicing_argument=False
    )
