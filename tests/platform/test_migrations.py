"""The Alembic migrations create exactly the platform tables, and take them away again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from nexus.stores.platform import async_url, downgrade, upgrade

PLATFORM_TABLES = {
    "organizations",
    "users",
    "watchlists",
    "watchlist_items",
    "plans",
    "memberships",
    "invitations",
    "refresh_tokens",
    "api_keys",
    "oauth_clients",
    "audit_events",
    "instrument_catalogue",
    "usage_events",
    "invoices",
    "invoice_lines",
    "trusted_documents",
}


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


async def test_0002_carries_users_and_watchlists_into_organisations(database_url: str) -> None:
    await upgrade(database_url, "0001")
    engine = create_async_engine(async_url(database_url))
    now = datetime.now(UTC)
    org, first, second, loner = (str(uuid.uuid4()) for _ in range(4))
    rows = [
        ("INSERT INTO organizations VALUES (:a, 'Acme', 'acme', :now)", {"a": org}),
        *(
            (
                "INSERT INTO users VALUES (:a, :e, 'X', 'scrypt$x', :o, :joined)",
                {"a": user, "e": f"{user}@example.com", "o": organization, "joined": joined},
            )
            for user, organization, joined in (
                (first, org, now),  # the first to join becomes the owner
                (second, org, now + timedelta(seconds=1)),
                (loner, None, now),
            )
        ),
        *(
            (
                "INSERT INTO watchlists VALUES (:a, :o, 'Main', :now)",
                {"a": str(uuid.uuid4()), "o": user},
            )
            for user in (second, loner)
        ),
    ]
    try:
        async with engine.begin() as connection:
            for statement, values in rows:
                await connection.execute(text(statement), {**values, "now": now})
        await upgrade(database_url)
        async with engine.connect() as connection:
            roles = dict(
                (await connection.execute(text("SELECT user_id, role FROM memberships"))).all()
            )
            owners = dict(
                (
                    await connection.execute(
                        text("SELECT owner_id, organization_id FROM watchlists")
                    )
                ).all()
            )
            loner_org = await connection.scalar(
                text("SELECT organization_id FROM users WHERE id = :id"), {"id": loner}
            )
            plans = (await connection.execute(text("SELECT name FROM plans"))).scalars().all()
    finally:
        await engine.dispose()

    assert roles == {first: "OWNER", second: "MEMBER", loner: "OWNER"}
    assert owners == {second: org, loner: loner_org}
    assert loner_org not in (None, org)
    assert set(plans) == {"anonymous", "free", "pro", "enterprise"}
