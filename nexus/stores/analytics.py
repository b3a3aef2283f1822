"""The analytics store: ClickHouse SQL through one small interface.

Two adapters speak the same SQL (server-side `{name:Type}` parameters included):

- `ChdbStore`: the ClickHouse engine in-process (chDB), the embedded default. chDB allows one
  data path per process, so the three domains share it as three databases.
- `ClickHouseServerStore`: a ClickHouse server through clickhouse-connect's HTTP client.

Both are blocking libraries; every call runs on the store's own worker threads so the event
loop never waits on a query. Rows come back as dicts of Python values (`date`, `datetime`,
`float`, `str`), the same from both adapters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

from nexus.errors import StoreUnavailable
from nexus.metrics import store_query

log = logging.getLogger("nexus.analytics")

Row = dict[str, Any]
R = TypeVar("R")
Params = Mapping[str, Any]


class AnalyticsStore(Protocol):
    """ClickHouse SQL, asynchronously. `round_trips` counts calls that reached the engine."""

    round_trips: int
    # Whether a statement may read rows handed over in the process (`insert_batch`, an Arrow
    # table read as `BATCH`): in-process chDB, yes; a server, no.
    reads_batches: bool

    async def command(self, sql: str, params: Params | None = None) -> None: ...

    async def query(self, sql: str, params: Params | None = None) -> list[Row]: ...

    async def insert_select(self, sql: str, params: Params | None = None) -> int:
        """Run an `INSERT ... SELECT`; how many rows it wrote."""
        ...

    async def insert_batch(self, sql: str, batch: Any, params: Params | None = None) -> int:
        """Run an `INSERT ... SELECT` that reads `batch` (an Arrow table) as `BATCH`; how many
        rows it wrote. Only where `reads_batches`."""
        ...

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    async def close(self) -> None: ...


# How a statement names the Arrow table handed to `insert_batch`: chDB's Python() table
# function, which finds the table by this name on the calling thread's stack.
BATCH = "Python(nexus_batch)"


def open_analytics(url: str) -> AnalyticsStore:
    """The adapter `ANALYTICS_URL` names: `chdb://PATH` or `http(s)://user:pw@host:port`."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return ChdbStore(Path(parts.netloc + parts.path))
    if parts.scheme in ("http", "https", "clickhouse"):
        return ClickHouseServerStore(url)
    raise ValueError(
        f"ANALYTICS_URL scheme {parts.scheme!r} is not supported: use chdb://PATH or http(s)://HOST"
    )


def _param_text(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        # ClickHouse's text form of an Array parameter: ['a','b'] / [1,2].
        return "[" + ",".join(_array_item(item) for item in value) + "]"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _array_item(item: Any) -> str:
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return repr(item)
    text = str(_param_text(item)).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _tsv_field(value: Any) -> str:
    # Plain strings first and unescaped when they need none: ids and ISO dates, most fields of
    # a bulk insert (ingestion writes hundreds of thousands per backfill).
    if type(value) is str and _NEEDS_ESCAPE.search(value) is None:
        return value
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "seconds")[:19]  # YYYY-MM-DD hh:mm:ss; strftime: 3x slower
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return _tsv_field(_param_text(value))
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _tsv_column(values: list[Any]) -> list[str]:
    """One column's TabSeparated fields, by the column's type where it has one (ids, ISO dates,
    floats with NULLs: a backfill's columns): C-speed `map`s and one escape scan per column
    instead of a call per value. The fields are exactly `_tsv_field`'s."""
    types = set(map(type, values))
    if types == {str}:
        if _NEEDS_ESCAPE.search("\x00".join(values)) is None:
            return values
    elif types == {float}:
        return list(map(repr, values))
    elif types == {float, type(None)}:
        return ["\\N" if value is None else repr(value) for value in values]
    elif types == {int}:
        return list(map(str, values))
    elif types == {dt.date}:
        return list(map(dt.date.isoformat, values))
    elif types == {dt.datetime}:  # event times: a row each (transfers, blocks, trades)
        return [value.isoformat(" ", "seconds")[:19] for value in values]
    return list(map(_tsv_field, values))


def _tsv_body(rows: Sequence[Sequence[Any]]) -> str:
    """The rows as a TabSeparated body, encoded column by column."""
    columns = [_tsv_column(list(column)) for column in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True)))


# A column's Python types -> the Arrow type chDB reads it as (None: NULL, as `\\N` in a text
# body); datetimes go as the text a TabSeparated body holds (`_tsv_field`), read the same way.
# Anything else (lists, integers past Int64, mixed types) makes the whole insert text.
_ARROW_TYPES = {
    str: "string", float: "float64", int: "int64", bool: "bool_", dt.date: "date32",
    dt.datetime: "string",
}


# Below this many values (rows x columns) an insert goes as text: reading an Arrow table costs
# chDB about 3 ms more per statement than a TabSeparated body, which 5,000 candles (35,000
# values) repay twice over and 1,000 do not (an A/B of `insert`, 2026-12-07).
ARROW_MIN_VALUES = 10_000


def _arrow_table(rows: Sequence[Sequence[Any]]) -> Any | None:
    """The rows as an Arrow table of columns c0, c1, ... for chDB's `Python()` table function,
    or None where they go as text: fewer than `ARROW_MIN_VALUES`, or a column of a type the
    text body must carry (see `_ARROW_TYPES`).

    Columns go to the engine as they are, with no text to write and parse again: about a third
    less time than a TabSeparated body for 5,000 candles, two thirds less for FRED's 70,245
    vintages (the benchmarks' bulk inserts)."""
    if not rows or len(rows) * len(rows[0]) < ARROW_MIN_VALUES:
        return None
    import pyarrow as pa

    arrays = []
    for column in zip(*rows, strict=True):
        values = list(column)
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if len(kinds) != 1 or (kind := kinds.pop()) not in _ARROW_TYPES:
            return None
        if kind is dt.datetime:
            values = [None if value is None else _tsv_field(value) for value in values]
        try:
            arrays.append(pa.array(values, type=getattr(pa, _ARROW_TYPES[kind])()))
        except (OverflowError, pa.ArrowException):  # an integer past Int64
            return None
    return pa.Table.from_arrays(arrays, names=[f"c{index}" for index in range(len(arrays))])


OFF_LOOP_PAYLOAD_BYTES = 64 * 1024  # larger query results are decoded in a worker thread


def _arrow_rows(payload: bytes) -> list[Row]:
    import pyarrow as pa

    table = pa.ipc.open_stream(pa.py_buffer(payload)).read_all()
    rows: list[Row] = table.to_pylist()
    return rows


class ChdbStore:
    """ClickHouse in-process (chDB), one session on one data path, one worker thread."""

    reads_batches = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.round_trips = 0
        # chDB sessions are not thread-safe: one thread serialises every call.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        self._session: Any = None

    def _open(self) -> Any:
        if self._session is None:
            from chdb import session

            self.path.mkdir(parents=True, exist_ok=True)
            self._session = session.Session(str(self.path))
        return self._session

    def execute_blocking(self, sql: str, fmt: str, params: Params | None = None) -> bytes:
        """Run `sql` on the store's worker thread and wait: chDB's output in format `fmt`.

        Callers on the event loop use `command`/`query`/`insert`; this is the seam the
        ClickHouse-HTTP test fixture uses to answer clickhouse-connect from the same engine.
        """
        return self._worker.submit(self._execute, sql, fmt, params).result()

    def written_blocking(self, sql: str, params: Params | None = None) -> int:
        """`insert_select` for a caller off the event loop (the ClickHouse-HTTP test fixture's
        `X-ClickHouse-Summary`): the rows the statement wrote."""
        return self._worker.submit(self._written, sql, params).result()

    def _execute(self, sql: str, fmt: str, params: Params | None = None) -> bytes:
        return bytes(self._result(sql, fmt, params).bytes())

    def _result(self, sql: str, fmt: str, params: Params | None) -> Any:
        session = self._open()
        bound = {name: _param_text(value) for name, value in (params or {}).items()}
        return session.query(sql, fmt, params=bound) if bound else session.query(sql, fmt)

    async def _run(self, sql: str, fmt: str, params: Params | None) -> bytes:
        return await self._on_worker(_verb(sql), self._execute, sql, fmt, params)

    async def _on_worker(self, verb: str, call: Callable[..., R], *args: Any) -> R:
        self.round_trips += 1
        loop = asyncio.get_running_loop()
        try:
            with store_query("analytics", "clickhouse", verb):
                return await loop.run_in_executor(self._worker, call, *args)
        except OSError as error:
            log.error("chDB unavailable: %s", type(error).__name__)
            raise StoreUnavailable("analytics") from error

    async def command(self, sql: str, params: Params | None = None) -> None:
        await self._run(sql, "CSV", params)

    async def insert_select(self, sql: str, params: Params | None = None) -> int:
        return await self._on_worker("INSERT", self._written, sql, params)

    def _written(self, sql: str, params: Params | None) -> int:
        return int(self._result(sql, "CSV", params).rows_written())

    async def insert_batch(self, sql: str, batch: Any, params: Params | None = None) -> int:
        return await self._on_worker("INSERT", self._written_batch, sql, batch, params)

    def _written_batch(self, sql: str, batch: Any, params: Params | None) -> int:
        nexus_batch = batch  # noqa: F841 -- read by `BATCH` in `sql`
        return self._written(sql, params)

    async def query(self, sql: str, params: Params | None = None) -> list[Row]:

        payload = await self._run(sql, "ArrowStream", params)
        if not payload:
            return []
        if len(payload) > OFF_LOOP_PAYLOAD_BYTES:
            # Thousands of rows take tens of milliseconds to become dicts: not on the loop.
            return await asyncio.to_thread(_arrow_rows, payload)
        return _arrow_rows(payload)

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """The rows are encoded on the store's worker thread, not on the event loop: a
        backfill's body of megabytes takes tens of milliseconds to build, and the loop (a
        sink preparing its next rows, other requests) goes on meanwhile. `rows` must not
        change until the insert returns."""
        if not rows:
            return
        await self._on_worker("INSERT", self._insert, table, columns, rows)

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        head = f"INSERT INTO {table} ({', '.join(columns)})"
        batch = _arrow_table(rows)
        if batch is None:
            self._execute(f"{head} FORMAT TabSeparated\n{_tsv_body(rows)}", "CSV")
        else:
            names = ", ".join(batch.column_names)
            self._written_batch(f"{head} SELECT {names} FROM {BATCH}", batch, None)

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await asyncio.get_running_loop().run_in_executor(self._worker, session.close)
        self._worker.shutdown(wait=False)


class ClickHouseServerStore:
    """A ClickHouse server over HTTP through clickhouse-connect."""

    reads_batches = False

    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self._options: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or (8443 if parts.scheme == "https" else 8123),
            "username": parts.username or "default",
            "password": parts.password or "",
            "secure": parts.scheme == "https",
            "connect_timeout": connect_timeout,
            "autogenerate_session_id": False,
            **query,
        }
        self.round_trips = 0
        self._worker = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clickhouse")
        self._client: Any = None

    def _connected(self) -> Any:
        if self._client is None:
            import clickhouse_connect

            self._client = clickhouse_connect.get_client(**self._options)
        return self._client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        from clickhouse_connect.driver.exceptions import OperationalError

        self.round_trips += 1

        def call() -> Any:
            return getattr(self._connected(), method)(*args, **kwargs)

        try:
            with store_query("analytics", "clickhouse", method):
                return await asyncio.get_running_loop().run_in_executor(self._worker, call)
        except (OperationalError, OSError) as error:
            # The message of a connection error names the host and user; keep it in no log.
            log.error("ClickHouse server unavailable: %s", type(error).__name__)
            raise StoreUnavailable("analytics") from error

    async def command(self, sql: str, params: Params | None = None) -> None:
        await self._call("command", sql, parameters=_bound(params))

    async def insert_select(self, sql: str, params: Params | None = None) -> int:
        summary = await self._call("command", sql, parameters=_bound(params))
        return int(getattr(summary, "written_rows", 0) or 0)

    async def insert_batch(self, sql: str, batch: Any, params: Params | None = None) -> int:
        raise NotImplementedError("a ClickHouse server reads no in-process batch (reads_batches)")

    async def query(self, sql: str, params: Params | None = None) -> list[Row]:
        result = await self._call("query", sql, parameters=_bound(params))
        return [_utc(row) for row in result.named_results()]

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if rows:
            await self._call(
                "insert", table, [list(row) for row in rows], column_names=list(columns)
            )

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._worker.shutdown(wait=False)


def _verb(sql: str) -> str:
    """The statement's first word (SELECT, INSERT...): a bounded span name."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "QUERY"
    return verb if verb.isalpha() and len(verb) <= 10 else "QUERY"


def _utc(row: Row) -> Row:
    # clickhouse-connect returns naive datetimes for DateTime64(3, 'UTC'); chDB aware ones.
    for name, value in row.items():
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            row[name] = value.replace(tzinfo=dt.UTC)
    return row


def _bound(params: Params | None) -> dict[str, Any] | None:
    # clickhouse-connect renders Python values (lists, dates) in the server's text form itself.
    return dict(params) if params else None
