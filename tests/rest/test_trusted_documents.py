"""Trusted documents: an organisation registers its operations; a key made with
`trustedDocumentsOnly` runs those (by hash or by text) and nothing else; other keys, GraphiQL
and automatic persisted queries are untouched."""

from __future__ import annotations

import hashlib

import httpx

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
