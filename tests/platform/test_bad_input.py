"""Each rejected request answers with its code and a message saying what to fix, and writes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nexus.stores.platform import PlatformStore
from tests.platform.conftest import GraphQL, codes, create_watchlist, register, row_counts

UNKNOWN = "6f1f2a8e-3c4b-4d5e-9f60-718293a4b5c6"

ORGANIZATION = (
    "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }"
)
REGISTER = "mutation($input: RegisterUserInput!) { registerUser(input: $input) { id } }"
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


def watchlist(name: str = "Other", items: Any = (), owner: str | None = None) -> Any:
    def variables(world: World) -> dict[str, Any]:
        listed = [{"kind": kind, "key": key} for kind, key in items]
        return {"input": {"ownerId": owner or world["owner"], "name": name, "items": listed}}

    return variables


def item(kind: str, key: str, watchlist_id: str | None = None) -> Any:
    return lambda world: {"id": watchlist_id or world["watchlist"], "kind": kind, "key": key}


CASES = [
    ("malformed email", REGISTER, user(email="ada.example.com"), "BAD_USER_INPUT", "email"),
    ("short password", REGISTER, user(password="seven77"), "BAD_USER_INPUT", "8 characters"),
    ("empty display name", REGISTER, user(displayName="  "), "BAD_USER_INPUT", "displayName"),
    ("malformed organization", REGISTER, user(organizationId="42"), "BAD_USER_INPUT", "UUID"),
    ("unknown organization", REGISTER, user(organizationId=UNKNOWN), "NOT_FOUND", UNKNOWN),
    ("email taken", REGISTER, user(email="ADA@example.com"), "CONFLICT", "already registered"),
    ("empty org name", ORGANIZATION, lambda w: {"input": {"name": ""}}, "BAD_USER_INPUT", "name"),
    (
        "bad slug",
        ORGANIZATION,
        lambda w: {"input": {"name": "X", "slug": "No Spaces"}},
        "BAD_USER_INPUT",
        "slug",
    ),
    ("slug taken", ORGANIZATION, lambda w: {"input": {"name": "Acme"}}, "CONFLICT", "acme"),
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
    ("unknown owner", WATCHLIST, watchlist(owner=UNKNOWN), "NOT_FOUND", UNKNOWN),
    ("malformed owner", WATCHLIST, watchlist(owner="me"), "BAD_USER_INPUT", "ownerId"),
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
        "query malformed email",
        'query { userByEmail(email: "ada") { id } }',
        lambda w: {},
        "BAD_USER_INPUT",
        "email",
    ),
]


@pytest.fixture
async def world(graphql: GraphQL) -> World:
    created = await graphql('mutation { createOrganization(input: {name: "Acme"}) { id } }')
    assert created.data is not None
    owner = await register(graphql, organizationId=created.data["createOrganization"]["id"])
    return {"owner": owner, "watchlist": await create_watchlist(graphql, owner, [("TOKEN", "BTC")])}


@pytest.mark.parametrize(
    ("operation", "variables", "code", "hint"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_rejected_request_writes_nothing(
    graphql: GraphQL,
    store: PlatformStore,
    world: World,
    operation: str,
    variables: Callable[[World], dict[str, Any]],
    code: str,
    hint: str,
) -> None:
    before = await row_counts(store)

    result = await graphql(operation, **variables(world))

    assert codes(result) == [code]
    assert result.errors is not None
    assert hint in result.errors[0].message
    assert await row_counts(store) == before


async def test_a_full_watchlist_takes_no_more_items(graphql: GraphQL, store: PlatformStore) -> None:
    owner = await register(graphql)
    full = await create_watchlist(graphql, owner, [("TOKEN", f"T{i}") for i in range(200)])

    result = await graphql(ADD, id=full, kind="STOCK", key="GME")

    assert codes(result) == ["BAD_USER_INPUT"]
    assert (await row_counts(store))["watchlist_items"] == 200
