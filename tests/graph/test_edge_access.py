"""@authenticated and @requiresScopes: enforced by the router before any fetch; a denied field
comes back null with an error carrying its path, and the rest of the operation runs."""

from __future__ import annotations

import httpx
import pytest

from graph.gateway import create_app
from graph.in_process import in_process_router
from tests.graph.edge_support import SCHEMAS, ContextLog, authenticator

QUERY = {
    "query": "query Board($n: Int!) { quotes(first: $n) { symbol price holders } "
    "me: whoami { userId } }",
    "variables": {"n": 2},
}


@pytest.fixture
def log() -> ContextLog:
    return ContextLog()


@pytest.fixture
def client(log: ContextLog) -> httpx.AsyncClient:
    router = in_process_router(SCHEMAS, contexts=log.contexts())
    app = create_app(router, authenticator=authenticator())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus")


async def test_anonymous_callers_get_public_fields_and_null_for_the_rest(
    client: httpx.AsyncClient, log: ContextLog
) -> None:
    response = await client.post("/graphql", json=QUERY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "quotes": [
            {"symbol": "S0", "price": 0.0, "holders": None},
            {"symbol": "S1", "price": 1.0, "holders": None},
        ],
        "me": None,
    }
    assert body["errors"] == [
        {
            "message": "`Quote.holders` requires the scope `holders:read`; send an API key or "
            "a bearer token.",
            "path": ["quotes", "holders"],
            "extensions": {"code": "UNAUTHENTICATED"},
        },
        {
            "message": "`Query.whoami` requires an authenticated caller; send an API key or a "
            "bearer token.",
            "path": ["me"],
            "extensions": {"code": "UNAUTHENTICATED"},
        },
    ]
    # Nothing was fetched from the subgraph that owns only denied fields.
    assert [name for name, _ in log.built] == ["market"]


async def test_a_caller_without_the_scope_is_forbidden_that_field_only(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=QUERY, headers={"x-api-key": "nxa_analyst"})
    body = response.json()
    assert body["data"]["me"] == {"userId": "u-ada"}
    assert [q["holders"] for q in body["data"]["quotes"]] == [None, None]
    assert body["errors"] == [
        {
            "message": "`Quote.holders` requires the scope `holders:read`; the caller's key or "
            "token does not carry it.",
            "path": ["quotes", "holders"],
            "extensions": {"code": "FORBIDDEN"},
        }
    ]


async def test_a_caller_with_the_scope_sees_everything(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=QUERY, headers={"authorization": "Bearer jwt-bob"}
    )
    assert response.json() == {
        "data": {
            "quotes": [
                {"symbol": "S0", "price": 0.0, "holders": 200},
                {"symbol": "S1", "price": 1.0, "holders": 200},
            ],
            "me": {"userId": "u-bob"},
        }
    }


async def test_denied_fields_in_fragments_are_left_out_too(client: httpx.AsyncClient) -> None:
    query = "{ movers { ...Held } whoami { userId } } fragment Held on Quote { symbol holders }"
    body = (await client.post("/graphql", json={"query": query})).json()
    assert body["data"] == {"movers": [{"symbol": "S1", "holders": None}], "whoami": None}
    assert [e["path"] for e in body["errors"]] == [["movers", "holders"], ["whoami"]]
