"""The platform store: organizations, users and watchlists in PostgreSQL, or SQLite embedded.

One SQLAlchemy async engine per process. `DATABASE_URL` picks the backend; plain `postgresql://`
and `sqlite:///` URLs are mapped to the async drivers (asyncpg, aiosqlite). The schema is
owned by the Alembic migrations in the repository's `migrations/`, run with `upgrade()`.

Every SQLite connection runs in WAL mode with a busy timeout (`_configure_sqlite`): readers never
wait for the one writer (the usage meter's batches, mutations), and a writer waits its turn for
`SQLITE_BUSY_TIMEOUT_MS` instead of failing with "database is locked". The edge's API-key
lookup is a pure read; `last_used_at` is written by the usage meter's batches.

A store that cannot be reached surfaces as `StoreUnavailable("platform")`: the URL may hold a
password, so it never appears in an error or a log line.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from nexus.errors import StoreUnavailable
from nexus.metrics import observe_store
from nexus.tracing import tracer

log = logging.getLogger("nexus.stores.platform")

SQLITE_BUSY_TIMEOUT_MS = 15_000  # how long a SQLite writer waits for the write lock

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}

# What a database that is down, unreachable or refusing us raises, whichever layer raises it.
# IntegrityError and the other DBAPIErrors about a statement are the caller's to handle.
_UNAVAILABLE = (
    OSError,
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InvalidCatalogNameError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    sqlite3.OperationalError,
)


def async_url(database_url: str) -> URL:
    """`database_url` with its async driver: `postgresql://` -> `postgresql+asyncpg://`."""
    try:
        url = make_url(database_url)
    except exc.ArgumentError:
        # The message would quote the URL, password included.
        raise ValueError("DATABASE_URL is not a valid database URL") from None
    backend, _, driver = url.drivername.partition("+")
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL or SQLite URL, not {backend!r}")
    if not driver or driver in {"psycopg2", "pysqlite"}:
        url = url.set(drivername=_ASYNC_DRIVERS[backend])
    return url


@asynccontextmanager
async def available() -> AsyncIterator[None]:
    """Turns a connection failure inside the block into `StoreUnavailable("platform")`."""
    try:
        yield
    except _UNAVAILABLE as error:
        # The exception's text can name the host or echo the URL: log its kind only.
        log.warning("platform store unavailable (%s)", type(error).__name__)
        raise StoreUnavailable("platform") from None
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("platform store connection lost (%s)", type(error.orig).__name__)
        raise StoreUnavailable("platform") from None


class PlatformStore:
    """The engine and session factory of the platform database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        # SQL statements sent to the database; tests read it to prove DataLoader batching.
        self.round_trips = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count_round_trip)
        event.listen(engine.sync_engine, "before_cursor_execute", _statement_started)
        event.listen(engine.sync_engine, "after_cursor_execute", _statement_finished)
        event.listen(engine.sync_engine, "handle_error", _statement_failed)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _configure_sqlite)
            # SQLite ignores ON DELETE CASCADE unless asked, per connection.
            event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)

    @classmethod
    def from_url(cls, database_url: str, **engine_options: Any) -> PlatformStore:
        return cls(create_async_engine(async_url(database_url), **engine_options))

    async def ping(self) -> None:
        """Raises `StoreUnavailable` unless the database answers a trivial query."""
        async with available(), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    def _count_round_trip(self, *_: object) -> None:
        self.round_trips += 1


# Each statement is timed and traced from SQLAlchemy's cursor events; the span is not made
# current (the statement runs synchronously inside the event pair), only parented to the
# request's current span.
def _statement_started(conn: Connection, cursor: Any, statement: str, *_: object) -> None:
    system = conn.dialect.name
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "QUERY"
    statement_span = tracer.start_span(
        f"{system} {verb}",
        attributes={"db.system": system, "db.operation.name": verb, "nexus.store": "platform"},
        kind=SpanKind.CLIENT,
    )
    conn.info.setdefault("nexus_statements", []).append((time.perf_counter(), statement_span))


def _statement_finished(conn: Connection, *_: object, ok: bool = True) -> None:
    started = conn.info.get("nexus_statements")
    if not started:
        return
    began, statement_span = started.pop()
    observe_store("platform", time.perf_counter() - began, ok=ok)
    if not ok:
        statement_span.set_status(Status(StatusCode.ERROR))
    statement_span.end()


def _statement_failed(context: Any) -> None:
    if context.connection is not None:
        _statement_finished(context.connection, ok=False)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    """Per connection, the store's and the migrations' (which run without foreign keys: a
    batch migration's table rebuild would cascade): a busy timeout, and WAL journal mode (kept
    in the file; a no-op where it is already on, "memory" for an in-memory database), so
    readers and the writer do not block each other."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrates the database at `database_url` up to `revision`."""
    await _migrate(database_url, command.upgrade, revision)


async def downgrade(database_url: str, revision: str) -> None:
    """Migrates the database at `database_url` down to `revision` (`"base"`: no tables)."""
    await _migrate(database_url, command.downgrade, revision)


async def _migrate(database_url: str, step: Any, revision: str) -> None:
    engine = create_async_engine(async_url(database_url))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    try:
        async with available(), engine.begin() as connection:
            await connection.run_sync(_run_alembic, step, revision)
    finally:
        await engine.dispose()


def _run_alembic(connection: Connection, step: Any, revision: str) -> None:
    config = alembic_config()
    # env.py runs on this connection instead of opening its own (Alembic's asyncio recipe).
    config.attributes["connection"] = connection
    step(config, revision)
