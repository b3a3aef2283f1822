"""The edge over HTTP: automatic persisted queries, CORS preflights and CSRF prevention."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from graph.gateway import create_app
from graph.in_process import in_process_router
from tests.graph.edge_support import SCHEMAS, authenticator

QUERY = "{ quotes(first: 1) { symbol } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
ORIGIN = "https://app.example.com"


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = create_app(
        in_process_router(SCHEMAS), authenticator=authenticator(), cors_origins=(ORIGIN,)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus")


def _extensions(sha: str = SHA) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def test_a_persisted_query_runs_by_its_hash_once_registered(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.post("/graphql", json={"extensions": _extensions()})
    assert unknown.json()["errors"][0] == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    registered = await client.post("/graphql", json={"query": QUERY, "extensions": _extensions()})
    assert registered.json() == {"data": {"quotes": [{"symbol": "S0"}]}}
    # by hash alone, also over GET (cacheable by a CDN)
    by_hash = await client.get("/graphql", params={"extensions": json.dumps(_extensions())})
    assert by_hash.json() == {"data": {"quotes": [{"symbol": "S0"}]}}


async def test_a_persisted_query_whose_hash_does_not_match_is_refused(
    client: httpx.AsyncClient,
) -> None:
    wrong = await client.post(
        "/graphql", json={"query": QUERY, "extensions": _extensions("0" * 64)}
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    after = await client.post("/graphql", json={"extensions": _extensions("0" * 64)})
    assert after.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_cors_preflight_allows_the_configured_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "origin": ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-api-key",
    }
    allowed = await client.options("/graphql", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
    other = await client.options("/graphql", headers={**preflight, "origin": "https://evil.test"})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": ORIGIN, "x-api-key": "nxa_analyst"}
    )
    assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_a_browsers_simple_get_is_refused_as_csrf(client: httpx.AsyncClient) -> None:
    simple = await client.get(
        "/graphql", params={"query": QUERY}, headers={"origin": "https://evil.test"}
    )
    assert simple.status_code == 400
    assert "Cross-Site Request Forgery" in simple.json()["errors"][0]["message"]
    guarded = await client.get(
        "/graphql",
        params={"query": QUERY},
        headers={"origin": ORIGIN, "apollo-require-preflight": "true"},
    )
    assert guarded.json() == {"data": {"quotes": [{"symbol": "S0"}]}}
    # a POST needs `content-type: application/json`, which a form cannot send
    form = await client.post(
        "/graphql", content=f"query={QUERY}", headers={"content-type": "text/plain"}
    )
    assert form.status_code == 415
