"""Trusted documents: an organisation registers its operations; a key made with
`trustedDocumentsOnly` runs those (by hash or by text) and nothing else; other keys, GraphiQL
and automatic persisted queries are untouched."""

from __future__ import annotations

import asyncio
import hashlib
import time

import httpx
from starlette.applications import Starlette

from nexus.stores import Stores
from nexus.stores.bus import RedisBus
from tests.conftest import REDIS_URL
from tests.rest.conftest import assembled
from tests.rest.test_callers import api_key

TOKENS = "query Tokens { tokens { symbol } }"
REGISTER = """mutation($name: String!, $document: String!) {
  registerTrustedDocument(name: $name, document: $document) { id sha256 name } }"""
RESTRICTED_KEY = """mutation { createApiKey(name: "kiosk", scopes: ["market:read"],
  trustedDocumentsOnly: true) { secret apiKey { trustedDocumentsOnly } } }"""


def _hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _by_hash(sha256: str) -> dict[str, object]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}


async def test_a_restricted_key_runs_only_its_organisations_trusted_documents(
    client: httpx.AsyncClient,
) -> None:
    owner = {"x-api-key": await api_key(client)}
    registered = await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"name": "tokens", "document": TOKENS}},
        headers=owner,
    )
    assert registered.json()["data"]["registerTrustedDocument"]["sha256"] == _hash(TOKENS)
    created = (await client.post("/graphql", json={"query": RESTRICTED_KEY}, headers=owner)).json()
    assert created["data"]["createApiKey"]["apiKey"]["trustedDocumentsOnly"] is True
    kiosk = {"x-api-key": created["data"]["createApiKey"]["secret"]}

    # By hash (APQ's extension or `documentId`) or by its text: it runs.
    for body in (
        _by_hash(_hash(TOKENS)),
        {"documentId": f"sha256:{_hash(TOKENS)}"},
        {"query": TOKENS},
    ):
        response = await client.post("/graphql", json=body, headers=kiosk)
        assert response.status_code == 200, response.text
        assert {"symbol": "BTC"} in response.json()["data"]["tokens"]

    # Anything else is refused before it runs, with a code that says why.
    for body in ({"query": "{ stocks { symbol } }"}, _by_hash(_hash("{ stocks { symbol } }"))):
        refused = await client.post("/graphql", json=body, headers=kiosk)
        assert refused.status_code == 400
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        assert "trusted documents" in error["message"]
        assert "data" not in refused.json()

    # The owner's unrestricted key runs anything, and APQ still works for it.
    anything = await client.post("/graphql", json={"query": "{ stocks { symbol } }"}, headers=owner)
    assert anything.json()["data"]["stocks"]
    unknown = await client.post("/graphql", json=_by_hash("0" * 64), headers=owner)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_trusted_documents_are_checked_listed_and_deleted(client: httpx.AsyncClient) -> None:
    owner = {"x-api-key": await api_key(client)}
    listed = await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"name": "tokens", "document": TOKENS}},
        headers=owner,
    )
    document_id = listed.json()["data"]["registerTrustedDocument"]["id"]
    bad = await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"name": "broken", "document": "{ tokens {"}},
        headers=owner,
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    names = await client.post(
        "/graphql", json={"query": "{ trustedDocuments { name sha256 } }"}, headers=owner
    )
    assert names.json()["data"]["trustedDocuments"] == [{"name": "tokens", "sha256": _hash(TOKENS)}]
    deleted = await client.post(
        "/graphql",
        json={
            "query": "mutation($id: ID!) { deleteTrustedDocument(id: $id) }",
            "variables": {"id": document_id},
        },
        headers=owner,
    )
    assert deleted.json()["data"]["deleteTrustedDocument"] == document_id


async def test_a_deleted_document_is_refused_at_once_by_every_router(stores: Stores) -> None:
    """Two router processes on one Redis, each caching trusted documents for ten minutes: a
    document deleted through one is refused by the other on its next request, and one
    registered through one runs on the other though it had just refused (and cached) it."""
    buses = [RedisBus(REDIS_URL), RedisBus(REDIS_URL)]
    apps = [
        assembled(
            Stores(
                settings=stores.settings,
                platform=stores.platform,
                analytics=stores.analytics,
                vectors=stores.vectors,
                bus=bus,
            ),
            trusted_cache_seconds=600,
        )
        for bus in buses
    ]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus.test")
        for app in apps
    ]
    first, second = clients
    try:
        for app in apps:
            await app.state.trusted_documents.ready()
        owner = {"x-api-key": await api_key(first)}
        created = await first.post("/graphql", json={"query": RESTRICTED_KEY}, headers=owner)
        kiosk = {"x-api-key": created.json()["data"]["createApiKey"]["secret"]}

        refused = await second.post("/graphql", json=_by_hash(_hash(TOKENS)), headers=kiosk)
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        registered = await first.post(
            "/graphql",
            json={"query": REGISTER, "variables": {"name": "tokens", "document": TOKENS}},
            headers=owner,
        )
        document_id = registered.json()["data"]["registerTrustedDocument"]["id"]
        await _changed(apps[1], 1)
        ran = await second.post("/graphql", json=_by_hash(_hash(TOKENS)), headers=kiosk)
        assert {"symbol": "BTC"} in ran.json()["data"]["tokens"]

        deleted = await first.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { deleteTrustedDocument(id: $id) }",
                "variables": {"id": document_id},
            },
            headers=owner,
        )
        assert deleted.json()["data"]["deleteTrustedDocument"] == document_id
        await _changed(apps[1], 2)
        gone = (await second.post("/graphql", json=_by_hash(_hash(TOKENS)), headers=kiosk)).json()
        assert gone["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        assert "data" not in gone
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.state.trusted_documents.close()
            await app.state.graph_router.close()
        for bus in buses:
            await bus.close()


async def _changed(app: Starlette, count: int) -> None:
    """Until the router's gate has received `count` change events (Redis delivers them in
    milliseconds; the caches hold entries for 600 s, so only the event explains a new answer)."""
    gate = app.state.trusted_documents
    deadline = time.monotonic() + 10
    while gate.changes < count:
        assert time.monotonic() < deadline, "no change event reached the other router"
        await asyncio.sleep(0.02)
