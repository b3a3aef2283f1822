"""A ClickHouse HTTP interface answered by chDB, so the real clickhouse-connect client is tested.

It understands what clickhouse-connect sends: the SQL in the `query` parameter and/or the body,
`param_<name>` server-side parameters, `database`, and `INSERT ... FORMAT Native` whose binary rows
follow the statement in the body. Output is whatever format the SQL ends with (clickhouse-connect
asks for Native), TabSeparated otherwise, as a real server does.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nexus.stores.analytics import ChdbStore

_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*$", re.IGNORECASE)
_INSERT_SELECT = re.compile(r"\s*INSERT\s+INTO\s+[\w.]+(\s*\([^)]*\))?\s+SELECT\b", re.IGNORECASE)
_INSERT_NATIVE = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>[\w.`]+)\s*(?P<columns>\([^)]*\))?\s*FORMAT\s+Native\s*$",
    re.IGNORECASE,
)


def _decoded(body: bytes, encoding: str) -> bytes:
    """The request body as sent before clickhouse-connect compressed it (lz4 by default)."""
    if encoding == "lz4":
        import lz4.frame

        return bytes(lz4.frame.decompress(body))
    if encoding == "gzip":
        import gzip

        return gzip.decompress(body)
    if encoding == "zstd":
        import zstandard

        return bytes(zstandard.ZstdDecompressor().decompress(body))
    return body


class ClickHouseHttp:
    def __init__(self, store: ChdbStore) -> None:
        self.store = store
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        self.requests += 1
        body = _decoded(await request.body(), request.headers.get("content-encoding", ""))
        sql = request.query_params.get("query", "")
        params = {
            key.removeprefix("param_"): value
            for key, value in request.query_params.items()
            if key.startswith("param_")
        }
        if not sql and body[:6].upper() == b"INSERT":
            # clickhouse-connect sends `INSERT ... FORMAT Native`, a newline, then binary rows.
            first_line, _, body = body.partition(b"\n")
            sql = first_line.decode()
        summary: str | None = None  # an INSERT ... SELECT: no result, a summary of rows written
        try:
            if _INSERT_NATIVE.match(sql):
                payload = self._insert_native(sql, body)
            else:
                statement = (sql + "\n" + body.decode()).strip() if body else sql.strip()
                if _INSERT_SELECT.match(statement):  # the summary says how many rows it wrote
                    written = self.store.written_blocking(statement, params or None)
                    payload, summary = b"", json.dumps({"written_rows": str(written)})
                else:
                    payload = self._run(statement, params)
        except Exception as error:  # the server answers an error with status 500 and its text
            response = Response(f"Code: 1. DB::Exception: {error}", status_code=500)
            await response(scope, receive, send)
            return
        headers = (
            {"X-ClickHouse-Summary": summary}
            if summary is not None
            else {"X-ClickHouse-Summary": "{}", "X-ClickHouse-Format": "Native"}
        )
        await Response(payload, headers=headers)(scope, receive, send)

    def _run(self, statement: str, params: dict[str, str]) -> bytes:
        match = _FORMAT.search(statement)
        fmt = match.group(1) if match else "TabSeparated"
        if match:
            statement = statement[: match.start()]
        return self.store.execute_blocking(statement, fmt, params or None)

    def _insert_native(self, sql: str, body: bytes) -> bytes:
        match = _INSERT_NATIVE.match(sql)
        assert match is not None
        with tempfile.NamedTemporaryFile(suffix=".native", delete=False) as rows_file:
            rows_file.write(body)
        try:
            columns = match.group("columns") or ""
            self.store.execute_blocking(
                f"INSERT INTO {match.group('table')} {columns} "
                f"SELECT * FROM file('{rows_file.name}', 'Native')",
                "CSV",
            )
        finally:
            Path(rows_file.name).unlink(missing_ok=True)
        return b""


@contextlib.contextmanager
def serve_clickhouse_http(store: ChdbStore) -> Iterator[str]:
    """`ClickHouseHttp(store)` on a free loopback port in a thread; yields its URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            ClickHouseHttp(store), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
