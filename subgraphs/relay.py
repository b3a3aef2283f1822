"""Keyset cursors for Relay connections over lists that grow while a client pages (ingested
transfers): a cursor is the sort key of the last item a client saw (base64url of `v1:` + a
JSON array), so the next page is a keyset read (`WHERE key < cursor`) and rows ingested
meanwhile never shift or repeat what it gets. `PageInfo` is the shared one (subgraphs/pages.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from nexus.errors import BadUserInput
from subgraphs.pages import PageInfo

MAX_PAGE = 100
CURSOR_PREFIX = "v1:"

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
    text = CURSOR_PREFIX + json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_int_cursor(cursor: str | None, size: int) -> list[int] | None:
    """The integer sort key in `cursor`; BadUserInput if this list did not hand it out."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(text)
        key = json.loads(text.removeprefix(CURSOR_PREFIX))
        if not (
            isinstance(key, list)
            and len(key) == size
            and all(isinstance(part, int) and not isinstance(part, bool) for part in key)
            and all(0 <= part < 2**63 for part in key)
        ):
            raise ValueError(text)
        return key
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadUserInput(
            "`after` is not a cursor of this list: pass a `cursor` or `pageInfo.endCursor` "
            "from a previous page of the same field, or null to start over.",
            argument="after",
        ) from None


def checked_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(
            f"`first` must be between 1 and {MAX_PAGE}, not {first}; page on with `after`.",
            argument="first",
        )
    return first


def page_info(cursors: Sequence[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
