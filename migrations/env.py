"""Alembic environment of the platform store, for both PostgreSQL (asyncpg) and SQLite.

`nexus.stores.platform.upgrade()` hands its own connection over in `config.attributes`; the
`alembic` command line opens one from `DATABASE_URL` (the embedded SQLite file by default).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from nexus.config import Settings
from nexus.stores.platform import async_url
from subgraphs.platform.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    engine = create_async_engine(async_url(Settings.from_env().database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=async_url(Settings.from_env().database_url),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (shared := context.config.attributes.get("connection")) is not None:
    run_on(shared)
else:
    asyncio.run(run_from_settings())
