"""Fixtures: a migrated platform store on SQLite (a temporary file) and on the machine's
PostgreSQL (a throwaway database), and a `graphql` callable that runs operations as a client."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from strawberry.types import ExecutionResult

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.platform import PlatformStore, upgrade
from subgraphs.platform import subgraph
from subgraphs.platform.models import Organization, User, Watchlist, WatchlistItem

POSTGRES_URL = os.environ.get(
    "NEXUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

GraphQL = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database, not yet migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'platform.db'}"
        return
    name = f"nexus_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PlatformStore]:
    await upgrade(database_url)
    platform = PlatformStore.from_url(database_url)
    yield platform
    await platform.close()


@pytest.fixture
def stores(store: PlatformStore, tmp_path: Path) -> Stores:
    return Stores(settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}), platform=store)


@pytest.fixture
def graphql(stores: Stores) -> GraphQL:
    return graphql_on(stores)


def graphql_on(stores: Stores) -> GraphQL:
    """Runs one operation as one request: a fresh context, so fresh DataLoaders."""

    async def execute(query: str, **variables: Any) -> ExecutionResult:
        return await subgraph.schema.execute(
            query, variable_values=variables, context_value=subgraph.make_context(stores)
        )

    return execute


def codes(result: ExecutionResult) -> list[str]:
    return [error.extensions["code"] for error in result.errors or [] if error.extensions]


async def row_counts(store: PlatformStore) -> dict[str, int]:
    async with store.sessions() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Organization, User, Watchlist, WatchlistItem)
        }


REGISTER = """
mutation Register($input: RegisterUserInput!) {
  registerUser(input: $input) { id email displayName organization { id slug } }
}
"""

CREATE_WATCHLIST = """
mutation Create($input: CreateWatchlistInput!) {
  createWatchlist(input: $input) { id name items { kind key position } }
}
"""


async def register(graphql: GraphQL, email: str = "ada@example.com", **fields: Any) -> str:
    values = {"email": email, "password": "correct horse", "displayName": "Ada", **fields}
    result = await graphql(REGISTER, input=values)
    assert result.errors is None, result.errors
    assert result.data is not None
    return str(result.data["registerUser"]["id"])


async def create_watchlist(
    graphql: GraphQL, owner_id: str, items: list[tuple[str, str]], name: str = "Main"
) -> str:
    values = {
        "ownerId": owner_id,
        "name": name,
        "items": [{"kind": kind, "key": key} for kind, key in items],
    }
    result = await graphql(CREATE_WATCHLIST, input=values)
    assert result.errors is None, result.errors
    assert result.data is not None
    return str(result.data["createWatchlist"]["id"])
