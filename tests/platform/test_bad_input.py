"""Each rejected request answers with its code and a message saying what to fix, and writes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nexus.auth.authenticator import Authenticator
from nexus.stores.platform import PlatformStore
from tests.platform.conftest import Account, GraphQL, codes, create_watchlist, row_counts, sign_up

UNKNOWN = "6f1f2a8e-3c4b-4d5e-9f60-718293a4b5c6"

ORGANIZATION = (
    "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }"
)
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }"
WATCHLIST = "mutation($input: CreateWatchlistInput!) { createWatchlist(input: $input) { id } }"
ADD = (
    "mutation($id: ID!, $kind: InstrumentKind!, $key: String!) "
    "{ addWatchlistItem(watchlistId: $id, kind: $kind, key: $key) { id } }"
)
REMOVE = ADD.replace("addWatchlistItem", "removeWatchlistItem")
DELETE = "mutation($id: ID!) { deleteWatchlist(id: $id) }"

World = dict[str, str]


def user(**fields: Any) -> Callable[[World], dict[str, Any]]:
    def variables(world: World) -> dict[str, Any]:
        values = {"email": "new@example.com", "password": "long enough", "displayName": "New"}
        return {"input": values | fields}

    return variables


def watchlist(name: str = "Other", items: Any = ()) -> Any:
    def variables(world: World) -> dict[str, Any]:
        listed = [{"kind": kind, "key": key} for kind, key in items]
        return {"input": {"name": name, "items": listed}}

    return variables


def item(kind: str, key: str, watchlist_id: str | None = None) -> Any:
    return lambda world: {"id": watchlist_id or world["watchlist"], "kind": kind, "key": key}


CASES = [
    ("malformed email", SIGN_UP, user(email="ada.example.com"), "BAD_USER_INPUT", "email"),
    ("short password", SIGN_UP, user(password="seven77"), "BAD_USER_INPUT", "8 characters"),
    ("empty display name", SIGN_UP, user(displayName="  "), "BAD_USER_INPUT", "displayName"),
    ("email taken", SIGN_UP, user(email="ADA@example.com"), "CONFLICT", "already registered"),
    ("empty org name", ORGANIZATION, lambda w: {"input": {"name": ""}}, "BAD_USER_INPUT", "name"),
    (
        "bad slug",
        ORGANIZATION,
        lambda w: {"input": {"name": "X", "slug": "No Spaces"}},
        "BAD_USER_INPUT",
        "slug",
    ),
    (
        "slug taken",
        ORGANIZATION,
        lambda w: {"input": {"name": "Other", "slug": "acme"}},
        "CONFLICT",
        "acme",
    ),
    ("empty watchlist name", WATCHLIST, watchlist(name=" "), "BAD_USER_INPUT", "name"),
    (
        "bad symbol",
        WATCHLIST,
        watchlist(items=[("TOKEN", "BTC"), ("TOKEN", "BTC/USD")]),
        "BAD_USER_INPUT",
        "BTC/USD",
    ),
    (
        "symbol too long",
        WATCHLIST,
        watchlist(items=[("STOCK", "A" * 21)]),
        "BAD_USER_INPUT",
        "1-20",
    ),
    (
        "201 items",
        WATCHLIST,
        watchlist(items=[("TOKEN", f"T{i}") for i in range(201)]),
        "BAD_USER_INPUT",
        "at most 200",
    ),
    (
        "repeated item",
        WATCHLIST,
        watchlist(items=[("TOKEN", "btc"), ("TOKEN", "BTC")]),
        "BAD_USER_INPUT",
        "twice",
    ),
    ("unknown kind", WATCHLIST, watchlist(items=[("BOND", "US10Y")]), "BAD_USER_INPUT", "BOND"),
    ("watchlist name taken", WATCHLIST, watchlist(name="Main"), "CONFLICT", "Main"),
    (
        "unknown instrument",
        WATCHLIST,
        watchlist(items=[("STOCK", "ZZZZ")]),
        "BAD_USER_INPUT",
        "ZZZZ",
    ),
    ("add bad symbol", ADD, item("TOKEN", ""), "BAD_USER_INPUT", "key"),
    ("add item twice", ADD, item("TOKEN", "btc"), "CONFLICT", "already"),
    ("add to unknown", ADD, item("TOKEN", "ETH", UNKNOWN), "NOT_FOUND", UNKNOWN),
    ("remove absent item", REMOVE, item("STOCK", "BTC"), "NOT_FOUND", "not in this watchlist"),
    ("delete unknown", DELETE, lambda w: {"id": UNKNOWN}, "NOT_FOUND", UNKNOWN),
    ("delete malformed", DELETE, lambda w: {"id": "x"}, "BAD_USER_INPUT", "UUID"),
    (
        "query malformed id",
        "query($id: ID!) { user(id: $id) { id } }",
        lambda w: {"id": "1"},
        "BAD_USER_INPUT",
        "UUID",
    ),
    (
        "sign in malformed email",
        'mutation { signIn(email: "ada", password: "x") { accessToken } }',
        lambda w: {},
        "BAD_USER_INPUT",
        "email",
    ),
    (
        "api key without scopes",
        'mutation { createApiKey(name: "k", scopes: []) { secret } }',
        lambda w: {},
        "BAD_USER_INPUT",
        "scopes",
    ),
    (
        "api key beyond the plan",
        'mutation { createApiKey(name: "k", scopes: ["admin:everything"]) { secret } }',
        lambda w: {},
        "BAD_USER_INPUT",
        "admin:everything",
    ),
    (
        "api key expired at birth",
        'mutation { createApiKey(name: "k", scopes: ["market:read"], '
        'expiresAt: "2001-01-01T00:00:00Z") { secret } }',
        lambda w: {},
        "BAD_USER_INPUT",
        "future",
    ),
]


@pytest.fixture
async def owner(graphql: GraphQL, authenticator: Authenticator) -> Account:
    return await sign_up(graphql, authenticator, organization="Acme")


@pytest.fixture
async def world(graphql: GraphQL, owner: Account) -> World:
    return {"watchlist": await create_watchlist(graphql, owner, [("TOKEN", "BTC")])}


@pytest.mark.parametrize(
    ("operation", "variables", "code", "hint"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_rejected_request_writes_nothing(
    graphql: GraphQL,
    store: PlatformStore,
    world: World,
    owner: Account,
    operation: str,
    variables: Callable[[World], dict[str, Any]],
    code: str,
    hint: str,
) -> None:
    before = await row_counts(store)

    result = await graphql(operation, owner.caller, **variables(world))

    assert codes(result) == [code]
    assert result.errors is not None
    assert hint in result.errors[0].message
    assert await row_counts(store) == before


async def test_a_full_watchlist_takes_no_more_items(
    graphql: GraphQL, store: PlatformStore, owner: Account
) -> None:
    full = await create_watchlist(graphql, owner, [("TOKEN", f"T{i}") for i in range(200)])

    result = await graphql(ADD, owner.caller, id=full, kind="STOCK", key="GME")

    assert codes(result) == ["BAD_USER_INPUT"]
    assert (await row_counts(store))["watchlist_items"] == 200
