"""The README's edge walkthrough against the assembled app (`nexus serve`'s, platform subgraph,
real Authenticator, SQLite store): sign up, create an API key, use it, spend the plan's budget
and get 429, see the usage metered."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from nexus.assembly.app import create_app
from nexus.config import Settings
from nexus.stores.platform import PlatformStore, upgrade
from subgraphs.platform.models import Plan

SIGN_UP = """mutation { signUp(input: {email: "ada@example.com", password: "correct horse",
  displayName: "Ada"}) { accessToken organization { id } } }"""
CREATE_KEY = """mutation { createApiKey(name: "partner", scopes: ["platform:read", "usage:read"])
  { secret apiKey { id } } }"""
ME = "query Me { me { displayName } plans { name } }"


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    monkeypatch.setenv("NEXUS_DEMAND_CONTROL", "on")
    database = f"sqlite:///{tmp_path / 'platform.db'}"
    await upgrade(database)
    store = PlatformStore.from_url(database)
    async with store.sessions.begin() as session:  # a small free plan, to reach its limits
        await session.execute(
            update(Plan)
            .where(Plan.name == "free")
            .values(cost_per_minute=20, max_operation_cost=18)
        )
    await store.close()
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path), "DATABASE_URL": database})
    app = create_app(settings, ["platform"], load_demo_on_start=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nexus") as http:
            yield http


async def _post(http: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_sign_up_key_budget_and_usage(client: Any) -> None:
    http = client
    signed_up = (await _post(http, SIGN_UP)).json()["data"]["signUp"]
    bearer = {"authorization": f"Bearer {signed_up['accessToken']}"}
    created = (await _post(http, CREATE_KEY, **bearer)).json()
    assert "data" in created, created
    secret = created["data"]["createApiKey"]["secret"]
    assert secret.startswith("nxa_")

    anonymous = (await _post(http, ME)).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert anonymous["errors"][0]["path"] == ["me"]

    # The key: its caller is the organisation's, on the free plan (20 units a minute here).
    first = await _post(http, ME, **{"x-api-key": secret})
    assert first.status_code == 200
    assert first.json()["data"]["me"] is None  # an API key is not a signed-in person
    assert first.headers["ratelimit-policy"] == '"cost";q=20;w=60'
    # `me` 1 and the list of plans (@listSize assumedSize 4); 4 plans came back
    assert first.json()["extensions"]["cost"] == {"estimated": 5, "actual": 4}
    dear = await _post(
        http,
        # 5 x 4 = 20 units, over the plan's 18 per operation
        "{ " + " ".join(f"{alias}: plans {{ name }}" for alias in "abcde") + " }",
        **{"x-api-key": secret},
    )
    assert dear.json()["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    statuses = [(await _post(http, ME, **{"x-api-key": secret})).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # 4 x 5 units of 20
    spent = await _post(http, ME, **{"x-api-key": secret})
    assert spent.status_code == 429
    assert spent.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(spent.headers["retry-after"]) >= 1

    bad_key = await _post(http, ME, **{"x-api-key": "nxa_" + "x" * 40})
    assert bad_key.status_code == 401

    await asyncio.sleep(1.5)  # the usage meter writes once a second, off the request path
    today = dt.datetime.now(dt.UTC).date()
    window = f'from: "{today}T00:00:00Z", to: "{today + dt.timedelta(days=1)}T00:00:00Z"'
    usage = await _post(
        http, f"{{ usage({window}, groupBy: API_KEY) {{ key operations refused }} }}", **bearer
    )
    assert usage.json()["data"]["usage"] == [
        {"key": None, "operations": 1, "refused": 0},  # createApiKey, by the bearer token
        {"key": created["data"]["createApiKey"]["apiKey"]["id"], "operations": 7, "refused": 3},
    ]
