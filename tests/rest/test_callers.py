"""REST callers are /graphql's: an API key made through the platform fields reads and writes the
organisation's watchlists over REST as over GraphQL; a refused key is a 401 problem; the edge's
demand control (413, 429 with Retry-After, RateLimit headers) applies to REST requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from starlette.applications import Starlette

PROBLEM = "application/problem+json"
SIGN_UP = """mutation { signUp(input: {email: "grace@example.com", password: "correct horse",
  displayName: "Grace"}) { accessToken } }"""
CREATE_KEY = """mutation { createApiKey(name: "sheet", scopes: ["platform:read", "platform:write",
  "market:read", "usage:read"]) { secret } }"""
READ_ONLY_KEY = 'mutation { createApiKey(name: "ro", scopes: ["platform:read"]) { secret } }'
WATCHLISTS = "{ watchlists { id name public createdAt items { kind key position addedAt } } }"


async def api_key(client: httpx.AsyncClient) -> str:
    signed_up = (await client.post("/graphql", json={"query": SIGN_UP})).json()
    bearer = {"authorization": f"Bearer {signed_up['data']['signUp']['accessToken']}"}
    created = (await client.post("/graphql", json={"query": CREATE_KEY}, headers=bearer)).json()
    return str(created["data"]["createApiKey"]["secret"])


async def test_an_api_key_manages_watchlists_over_rest(client: httpx.AsyncClient) -> None:
    key = {"x-api-key": await api_key(client)}
    created = await client.post(
        "/api/v1/watchlists",
        json={"name": "Rates", "items": [{"kind": "SERIES", "key": "DGS10"}]},
        headers=key,
    )
    assert created.status_code == 201, created.text
    watchlist: dict[str, Any] = created.json()
    assert [(i["kind"], i["key"]) for i in watchlist["items"]] == [("SERIES", "DGS10")]
    path = f"/api/v1/watchlists/{watchlist['id']}"

    added = await client.put(f"{path}/items/TOKEN/BTC", headers=key)
    assert added.status_code == 200
    assert [i["key"] for i in added.json()["items"]] == ["DGS10", "BTC"]
    listed = await client.get("/api/v1/watchlists", headers=key)
    assert listed.headers["cache-control"] == "private, no-store"
    same = await client.post("/graphql", json={"query": WATCHLISTS}, headers=key)
    assert listed.json() == same.json()["data"]["watchlists"]
    assert [w["name"] for w in listed.json()] == ["Rates"]

    removed = await client.delete(f"{path}/items/SERIES/DGS10", headers=key)
    assert [i["key"] for i in removed.json()["items"]] == ["BTC"]
    bad_kind = await client.put(f"{path}/items/BOND/X", headers=key)
    assert bad_kind.status_code == 400 and "`kind`" in bad_kind.json()["detail"]
    deleted = await client.delete(path, headers=key)
    assert deleted.status_code == 200 and deleted.json() == watchlist["id"]
    gone = await client.get(path, headers=key)
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM


async def test_usage_and_invoices_over_rest(client: httpx.AsyncClient, app: Starlette) -> None:
    key = {"x-api-key": await api_key(client)}
    for _ in range(3):
        assert (await client.get("/api/v1/tokens/BTC", headers=key)).status_code == 200
    await app.state.graph_router.usage.flush()  # the meter writes off the request path
    now = dt.datetime.now(dt.UTC)
    period = {
        "from": (now - dt.timedelta(days=1)).isoformat(),
        "to": (now + dt.timedelta(days=1)).isoformat(),
    }
    usage = await client.get(
        "/api/v1/usage", params={**period, "groupBy": "OPERATION"}, headers=key
    )
    assert usage.status_code == 200, usage.text
    by_operation = {bucket["key"]: bucket for bucket in usage.json()}
    assert by_operation["TokenBySymbol"]["operations"] == 3
    query = (
        "query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, "
        "groupBy: OPERATION) { key operations refused estimatedCost actualCost } }"
    )
    same = await client.post("/graphql", json={"query": query, "variables": period}, headers=key)
    graphql_buckets = {b["key"]: b for b in same.json()["data"]["usage"]}
    assert graphql_buckets["TokenBySymbol"] == by_operation["TokenBySymbol"]
    invoices = await client.get("/api/v1/invoices", headers=key)
    assert invoices.status_code == 200 and invoices.json() == []  # no month closed yet
    assert (await client.get("/api/v1/invoices")).status_code in (401, 403)


async def test_a_refused_key_is_a_401_problem_and_nothing_runs(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/watchlists", json={"name": "Nope"}, headers={"x-api-key": "nxa_forged"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_demand_control_applies_to_rest(strict_client: httpx.AsyncClient) -> None:
    client = strict_client
    too_dear = await client.get("/api/v1/posts", params={"limit": "20000"})
    assert too_dear.status_code == 413
    assert too_dear.json()["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    # A list fan-out past the router's limit (20,000) is refused before its cost is estimated.
    too_many = await client.get("/api/v1/posts", params={"limit": "100000"})
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "MAX_LIST_FAN_OUT_EXCEEDED"
    first = await client.get("/api/v1/tokens/BTC")
    assert first.status_code == 200 and "ratelimit" in first.headers
    for _ in range(500):  # an anonymous caller's per-minute budget runs out
        response = await client.get("/api/v1/tokens")
        if response.status_code != 200:
            break
    assert response.status_code == 429
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == "RATE_LIMITED"


async def test_an_anonymous_caller_reads_observations_and_candles_under_demand_control(
    strict_client: httpx.AsyncClient,
) -> None:
    """`NEXUS_DEMAND_CONTROL=on`: a quarter of daily observations or candles is within the
    anonymous plan's 500 cost units per operation (and five such reads within its 1,000 a
    minute), over REST and over GraphQL."""
    client = strict_client
    quarter = {"from": "2021-01-01", "to": "2021-03-31"}
    for path in (
        "/api/v1/macro/series/DGS10/observations",
        "/api/v1/tokens/BTC/candles",
        "/api/v1/stocks/GME/candles",
    ):
        response = await client.get(path, params=quarter)
        assert response.status_code == 200, (path, response.text)
        assert response.json()[0]["date"].startswith("2021-01")
    query = """query Year($from: Date!, $to: Date!) {
      series(id: "DGS10") { observations(from: $from, to: $to) { date value } }
      token(symbol: "BTC") { candles(from: $from, to: $to) { date close } } }"""
    body = (await client.post("/graphql", json={"query": query, "variables": quarter})).json()
    assert "errors" not in body
    # Each list is costed as the 90 days of the range (one unit per object), not refused.
    assert body["extensions"]["cost"]["estimated"] == 2 + 2 * 90
    assert len(body["data"]["token"]["candles"]) == 90


def test_analytics_lists_are_costed_by_their_list_size(app: Starlette) -> None:
    """@listSize on the analytics lists: `maxNodes` sizes the network's nodes and edges
    (sizedFields), pools and their ranges have assumed sizes, `limit` slices influencers."""
    costs = app.state.graph_router.costs

    def estimate(query: str) -> int:
        document = parse(query)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        return int(costs.estimate(query, document, operation, {}))

    network = """{ mentionNetwork(kind: CASHTAGS, from: "2021-01-01", to: "2021-01-31",
      maxNodes: %d) { nodes { id } edges { source } } }"""
    # @cost(weight: 20) on the field, then one unit per node and per edge.
    assert estimate(network % 80) == 20 + 80 + 80
    assert estimate(network % 10) == 20 + 10 + 10
    assert estimate("{ pools { id ranges { tickLower } } }") == 20 * (1 + 8)
    assert estimate('{ influencers(symbol: "GME", limit: 7) { author } }') == 7
    # Macro's engine fields carry @cost: a curve fit 10, a bootstrap 2; a range of curves is
    # sized by its days (2024 has 366), each a curve object (1) with its fit.
    curve = '{ yieldCurve(date: "2024-01-02") { fit { rmseBp } bootstrapped { zeroRates } } }'
    assert estimate(curve) == 1 + 10 + 2
    year = '{ yieldCurves(from: "2024-01-01", to: "2024-12-31") { fit { rmseBp } } }'
    assert estimate(year) == 366 * (1 + 10)
    simulation = 'mutation { startRateSimulation(input: {shockBp: 50}) { jobId } }'
    assert estimate(simulation) == 10 + 50  # a mutation root field's 10, then its @cost


async def test_the_router_refuses_private_platform_fields_before_fetching(
    client: httpx.AsyncClient, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """@authenticated/@requiresScopes on the platform's fields: an anonymous caller's private
    fields come back null with UNAUTHENTICATED, and no request reaches the platform subgraph;
    a key without `platform:write` is FORBIDDEN a write, again without a fetch."""
    transport = app.state.graph_router.transport
    fetched: list[str] = []
    fetch = transport.fetch

    async def counted(service: str, query: str, variables: Any) -> Any:
        fetched.append(service)
        return await fetch(service, query, variables)

    monkeypatch.setattr(transport, "fetch", counted)
    body = (await client.post("/graphql", json={"query": "{ me { id } tokens { symbol } }"})).json()
    assert body["data"]["me"] is None and body["data"]["tokens"]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["me"], "UNAUTHENTICATED")
    ]
    # Non-null lists: the denial nulls `data`, as GraphQL's null propagation says.
    query = "{ apiKeys { id } watchlists { id } auditLog { action } }"
    body = (await client.post("/graphql", json={"query": query})).json()
    assert body["data"] is None
    assert {e["path"][0]: e["extensions"]["code"] for e in body["errors"]} == {
        "apiKeys": "UNAUTHENTICATED",
        "watchlists": "UNAUTHENTICATED",
        "auditLog": "UNAUTHENTICATED",
    }
    assert fetched == ["crypto"]  # the platform subgraph was never asked

    secret = await api_key(client)  # made through the platform: these fetches are expected
    bearer = {"authorization": f"Bearer {secret}"}
    read_only = await client.post(
        "/graphql",
        json={"query": READ_ONLY_KEY},
        headers=bearer,
    )
    reader = {"x-api-key": read_only.json()["data"]["createApiKey"]["secret"]}
    fetched.clear()
    refused = await client.post(
        "/graphql",
        json={"query": 'mutation { createWatchlist(input: {name: "x"}) { id } }'},
        headers=reader,
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert fetched == []
