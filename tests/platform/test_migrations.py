"""The Alembic migrations create exactly the platform tables, and take them away again."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from nexus.stores.platform import async_url, downgrade, upgrade

PLATFORM_TABLES = {"organizations", "users", "watchlists", "watchlist_items"}


async def table_names(database_url: str) -> set[str]:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert await table_names(database_url) == set()

    await upgrade(database_url)
    assert await table_names(database_url) == PLATFORM_TABLES

    await downgrade(database_url, "base")
    assert await table_names(database_url) == set()

    await upgrade(database_url)
    assert await table_names(database_url) == PLATFORM_TABLES


async def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url, "head")
    assert await table_names(database_url) == PLATFORM_TABLES
