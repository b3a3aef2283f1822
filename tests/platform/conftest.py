"""Fixtures: a migrated platform store on SQLite (a temporary file) and on the machine's
PostgreSQL (a throwaway database), a `graphql` callable that runs operations as a client of a
given caller, and signed-up accounts whose callers come from the real Authenticator."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from strawberry.types import ExecutionResult

from nexus.auth import ANONYMOUS, Caller
from nexus.auth.authenticator import Authenticator
from nexus.auth.keys import DEV_KEY_NAME, generate_key
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.platform import PlatformStore, upgrade
from subgraphs.platform import catalogue, subgraph
from subgraphs.platform.models import (
    ApiKey,
    InstrumentKind,
    Invitation,
    Membership,
    OAuthClient,
    Organization,
    RefreshToken,
    User,
    Watchlist,
    WatchlistItem,
)
from subgraphs.platform.services import authenticator_for

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


# Every instrument the tests put in watchlists, as the market domains would announce them.
TEST_INSTRUMENTS = [
    *(("TOKEN", key) for key in ("BTC", "ETH", "SOL")),
    *(("STOCK", key) for key in ("GME", "AMC", "BRK.B")),
    *(("SERIES", key) for key in ("DGS10", "T10Y2Y", "WALCL")),
    *(("TOKEN", f"T{i}") for i in range(210)),
    *((kind, f"SYM{i}") for kind in ("TOKEN", "STOCK", "SERIES") for i in range(60)),
]


@pytest.fixture(scope="session")
def signing_key_pem() -> bytes:
    """One RSA key for the session: generating one per test costs more than the test."""
    return generate_key().as_pem(private=True)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PlatformStore]:
    await upgrade(database_url)
    platform = PlatformStore.from_url(database_url)
    await catalogue.learn(platform, [(InstrumentKind(k), key) for k, key in TEST_INSTRUMENTS])
    yield platform
    await platform.close()


@pytest.fixture
def stores(store: PlatformStore, tmp_path: Path, signing_key_pem: bytes) -> Stores:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / DEV_KEY_NAME).write_bytes(signing_key_pem)
    return Stores(settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}), platform=store)


@pytest.fixture
def graphql(stores: Stores) -> GraphQL:
    return graphql_on(stores)


@pytest.fixture
def authenticator(stores: Stores) -> Authenticator:
    return authenticator_for(stores)


def graphql_on(stores: Stores) -> GraphQL:
    """Runs one operation as one request of `caller`: a fresh context, so fresh DataLoaders."""

    async def execute(query: str, caller: Caller = ANONYMOUS, **variables: Any) -> ExecutionResult:
        return await subgraph.schema.execute(
            query, variable_values=variables, context_value=subgraph.make_context(stores, caller)
        )

    return execute


def codes(result: ExecutionResult) -> list[str]:
    return [error.extensions["code"] for error in result.errors or [] if error.extensions]


async def row_counts(store: PlatformStore) -> dict[str, int]:
    async with store.sessions() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                Organization,
                User,
                Membership,
                Watchlist,
                WatchlistItem,
                ApiKey,
                OAuthClient,
                Invitation,
                RefreshToken,
            )
        }


SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    accessToken tokenType expiresIn refreshToken refreshTokenExpiresAt role
    user { id email displayName }
    organization { id slug }
  }
}
"""

CREATE_WATCHLIST = """
mutation Create($input: CreateWatchlistInput!) {
  createWatchlist(input: $input) { id name items { kind key position } }
}
"""


@dataclass(frozen=True)
class Account:
    """A signed-up user: ids, tokens, and the caller the edge makes of the access token."""

    email: str
    user_id: str
    organization_id: str
    access_token: str
    refresh_token: str
    caller: Caller


async def caller_of(authenticator: Authenticator, token: str, address: str | None = None) -> Caller:
    caller = await authenticator.authenticate({"Authorization": f"Bearer {token}"})
    return replace(caller, address=address)


async def sign_up(
    graphql: GraphQL,
    authenticator: Authenticator,
    email: str = "ada@example.com",
    organization: str | None = None,
    display_name: str = "Ada",
) -> Account:
    values = {"email": email, "password": "correct horse", "displayName": display_name}
    if organization is not None:
        values["organizationName"] = organization
    result = await graphql(SIGN_UP, input=values)
    assert result.errors is None, result.errors
    assert result.data is not None
    payload = result.data["signUp"]
    return await account_of(authenticator, payload)


SIGN_IN = """
mutation SignIn($email: String!, $password: String!, $organizationId: ID) {
  signIn(email: $email, password: $password, organizationId: $organizationId) {
    accessToken refreshToken role user { id email } organization { id }
  }
}
"""


async def sign_in(
    graphql: GraphQL,
    authenticator: Authenticator,
    email: str,
    organization_id: str | None = None,
    password: str = "correct horse",
) -> Account:
    result = await graphql(SIGN_IN, email=email, password=password, organizationId=organization_id)
    assert result.errors is None, result.errors
    assert result.data is not None
    return await account_of(authenticator, result.data["signIn"])


async def account_of(authenticator: Authenticator, payload: dict[str, Any]) -> Account:
    return Account(
        email=payload["user"]["email"],
        user_id=str(payload["user"]["id"]),
        organization_id=str(payload["organization"]["id"]),
        access_token=payload["accessToken"],
        refresh_token=payload["refreshToken"],
        caller=await caller_of(authenticator, payload["accessToken"]),
    )


async def create_watchlist(
    graphql: GraphQL,
    account: Account,
    items: list[tuple[str, str]],
    name: str = "Main",
    public: bool = False,
) -> str:
    values = {
        "name": name,
        "items": [{"kind": kind, "key": key} for kind, key in items],
        "public": public,
    }
    result = await graphql(CREATE_WATCHLIST, account.caller, input=values)
    assert result.errors is None, result.errors
    assert result.data is not None
    return str(result.data["createWatchlist"]["id"])
