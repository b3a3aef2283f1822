"""Input strings and JSON refused at the edge before anything reads them.

Lone surrogates cannot be encoded as UTF-8 (they broke the limits and the stores), NUL ends
strings in C libraries and PostgreSQL refuses it, and other control characters have no place in
names, e-mails or queries. Tab, newline and carriage return are text and stay allowed.
Deeply nested JSON is refused before it can exhaust the stack of anything that walks it.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import DocumentNode, StringValueNode, Visitor, visit

# C0 controls but tab/newline/return, DEL, C1 controls, and UTF-16 surrogates (never text alone).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_JSON_DEPTH = 32


class InputRefused(Exception):
    """`code` BAD_USER_INPUT (a string) or BAD_REQUEST (the JSON shape: answered 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def describe(character: str) -> str:
    point = ord(character)
    if 0xD800 <= point <= 0xDFFF:
        return f"a lone surrogate (U+{point:04X})"
    if point == 0:
        return "a NUL character (U+0000)"
    return f"a control character (U+{point:04X})"


def check_text(text: str, where: str) -> None:
    found = FORBIDDEN.search(text)
    if found is not None:
        raise InputRefused(
            "BAD_USER_INPUT",
            f"{where} contains {describe(found.group())} at position {found.start()}; "
            "send text without control characters or unpaired surrogates.",
        )


def check_json(value: Any, where: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Every string (keys too) in `value` is text, and it nests at most `max_depth` deep.
    Iterative, so a value nested deeper than the interpreter's stack is refused, not crashed on."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InputRefused(
                    "BAD_REQUEST",
                    f"{where} nests deeper than {max_depth} levels; flatten it.",
                )
            if isinstance(item, dict):
                for key, inner in item.items():
                    check_text(str(key), where)
                    pending.append((inner, depth + 1))
            else:
                pending.extend((inner, depth + 1) for inner in item)


class _Literals(Visitor):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        check_text(node.value, "A string literal in the query")


def check_literals(document: DocumentNode) -> None:
    """String literals in the document (`"\\u0000"` escapes decode to control characters)."""
    visit(document, _Literals())
