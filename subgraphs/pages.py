"""Cursor pagination for long lists: Relay connections (`edges { cursor node }`, `pageInfo`).

`Connection[T]` becomes `TConnection` / `TEdge` in the schema; `PageInfo` is @shareable, one
definition for every subgraph. Cursors are opaque (base64 of the item's position in the
ordered list): a client passes `pageInfo.endCursor` back as `after` for the next page. The
lists paged here are computed in a fixed order (dates ascending), so positions are stable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from nexus.errors import BadUserInput

T = TypeVar("T")

MAX_PAGE = 1_000
DEFAULT_PAGE = 100

First = Annotated[
    int,
    strawberry.argument(
        description=f"Items in this page, 1 to {MAX_PAGE:,} (default {DEFAULT_PAGE})."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (a previous page's `pageInfo.endCursor`); from the "
        "first item if null."
    ),
]


@strawberry.federation.type(shareable=True, description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.federation.field(
        shareable=True, description="Whether items follow this page (ask with `after`)."
    )
    has_previous_page: bool = strawberry.federation.field(
        shareable=True, description="Whether items precede this page."
    )
    start_cursor: str | None = strawberry.federation.field(
        shareable=True, description="The cursor of the page's first item; null if empty."
    )
    end_cursor: str | None = strawberry.federation.field(
        shareable=True, description="The cursor of the page's last item: pass it as `after`."
    )


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item (for `after`).")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a long list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(description="Items in the whole list, all pages.")


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"at:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        kind, _, number = text.partition(":")
        if kind != "at":
            raise ValueError(kind)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            "`after` is not a cursor from this list: pass a `pageInfo.endCursor`.",
            argument="after",
        ) from None


def paginate(items: Sequence[T], first: int, after: str | None) -> Connection[T]:
    """The page of `items` after the cursor `after`, at most `first` long."""
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` is {first}: ask for 1 to {MAX_PAGE:,}.", argument="first")
    start = 0 if after is None else decode_cursor(after) + 1
    if not 0 <= start <= len(items):
        raise BadUserInput("`after` points past the end of this list.", argument="after")
    page = items[start : start + first]
    edges = [Edge(cursor=encode_cursor(start + i), node=item) for i, item in enumerate(page)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + len(page) < len(items),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(items),
    )
