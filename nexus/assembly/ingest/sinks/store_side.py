"""What the sinks' store-side writes share: a batch's payloads go to chDB as one JSON query
parameter, read by the `format()` table function, and one INSERT ... SELECT checks them,
keeps the last of duplicate keys and leaves out the rows already stored."""

from __future__ import annotations

from typing import Any

import orjson

# YYYY-MM-DD, as a SQL string for `match()`.
SQL_ISO_DAY = "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"
# A write's rows read and inserted as one block (a batch is at most 200,000 records), so a
# statement whose checks fail (`throwIf`) writes nothing: whole or not at all.
BLOCK_ROWS = 1_000_000
ONE_BLOCK = f"max_block_size = {BLOCK_ROWS}, min_insert_block_size_rows = {BLOCK_ROWS}"


def first_line(error: BaseException) -> str:
    """The store's refusal, short enough for a log line (chDB appends a stack trace)."""
    return str(error).split("\n", 1)[0][:300]


def json_batch(payloads: list[dict[str, Any]], width: int, key: str) -> tuple[list[str], str] | str:
    """The payloads' distinct `key` values (sorted) and the payloads as one JSON text, or why
    the batch cannot go to the store whole (a payload without `width` fields, a key that is
    no string, a value that is no JSON): then it is written record by record."""
    if set(map(len, payloads)) != {width}:
        return f"a payload has fields missing or more than {width}"
    try:
        keys = sorted({payload[key] for payload in payloads})
        data = orjson.dumps(payloads).decode()
    except (KeyError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    if not all(isinstance(value, str) for value in keys):
        return f"a {key} is not a string"
    return keys, data
