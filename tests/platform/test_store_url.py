"""DATABASE_URL: plain URLs get the async drivers, and a bad one never echoes its password."""

from __future__ import annotations

import pytest

from nexus.stores.platform import async_url


@pytest.mark.parametrize(
    ("database_url", "driver"),
    [
        ("postgresql://nexus:pw@db.internal/platform", "postgresql+asyncpg"),
        ("postgres://db.internal/platform", "postgresql+asyncpg"),
        ("postgresql+psycopg2://db.internal/platform", "postgresql+asyncpg"),
        ("postgresql+asyncpg://db.internal/platform", "postgresql+asyncpg"),
        ("sqlite:///var/platform.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///var/platform.db", "sqlite+aiosqlite"),
    ],
)
def test_plain_urls_get_the_async_driver(database_url: str, driver: str) -> None:
    url = async_url(database_url)

    assert url.drivername == driver
    assert url.database in {"platform", "var/platform.db"}


@pytest.mark.parametrize("database_url", ["mysql://root:hunter22@db/platform", "hunter22 :: nope"])
def test_unusable_urls_are_refused_without_the_password(database_url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as refused:
        async_url(database_url)

    assert "hunter22" not in str(refused.value)
