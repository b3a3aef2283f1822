"""What the sinks' store-side writes share: a batch's payloads go to chDB as one Arrow table
(`AnalyticsStore.insert_batch`, read as `BATCH`), and one INSERT ... SELECT checks them,
keeps the last of duplicate keys and leaves out the rows already stored."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

# YYYY-MM-DD, as a SQL string for `match()`, and the same day for a sink's checks in Python.
SQL_ISO_DAY = "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"
ISO_DAY = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
# A write's rows read and inserted as one block (a batch is at most 200,000 records), so a
# statement whose checks fail (`throwIf`) writes nothing: whole or not at all.
BLOCK_ROWS = 1_000_000
ONE_BLOCK = f"max_block_size = {BLOCK_ROWS}, min_insert_block_size_rows = {BLOCK_ROWS}"


def iso_day(text: Any) -> str:
    """`text` if it is a YYYY-MM-DD day (checked cheaply: no date object is made; Python
    3.11's `date.fromisoformat` also reads 20210101)."""
    if not isinstance(text, str) or ISO_DAY.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    return text


def first_line(error: BaseException) -> str:
    """The store's refusal, short enough for a log line (chDB appends a stack trace)."""
    return str(error).split("\n", 1)[0][:300]


# A batch of more payloads than this is made a table in a worker thread, not on the event
# loop: 46,000 FRED vintages take 30 ms or more (a column per field from the payload dicts).
OFF_LOOP_PAYLOADS = 2_000


async def arrow_batch(
    payloads: list[dict[str, Any]],
    fields: Mapping[str, str],
    key: str,
    nullable: frozenset[str] = frozenset(),
) -> tuple[list[str], Any] | str:
    """The payloads' distinct `key` values (sorted) and the payloads as an Arrow table of
    `fields` (name -> pyarrow type: "string", "float64"), or why the batch cannot go to the
    store whole: a payload without exactly these fields, a value not of its field's type (an
    integer or a bool is a float64), a missing value (None) in a field not `nullable`. Then
    it is written record by record. The store's statement checks the values themselves.
    The payloads must not change until it returns."""
    if len(payloads) <= OFF_LOOP_PAYLOADS:
        return _arrow_batch(payloads, fields, key, nullable)
    return await asyncio.to_thread(_arrow_batch, payloads, fields, key, nullable)


def _arrow_batch(
    payloads: list[dict[str, Any]],
    fields: Mapping[str, str],
    key: str,
    nullable: frozenset[str],
) -> tuple[list[str], Any] | str:
    import pyarrow as pa

    if set(map(len, payloads)) != {len(fields)}:
        return f"a payload has fields missing or more than {len(fields)}"
    columns = {}
    keys: list[Any] = []
    try:
        for name, kind in fields.items():
            values = [payload[name] for payload in payloads]
            column = pa.array(values, type=getattr(pa, kind)())
            if column.null_count and name not in nullable:
                return f"a {name} is missing"
            columns[name] = column
            keys = values if name == key else keys
    except KeyError as error:
        return f"KeyError: {error}"
    except (pa.ArrowException, OverflowError, TypeError) as error:
        return f"{type(error).__name__}: {error}"[:200]
    return sorted(set(keys)), pa.table(columns)
