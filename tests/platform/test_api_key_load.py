"""API keys under load through the edge: many first uses at once while the usage meter writes
its batches. The key lookup is a pure read, so none of them waits on the store's write lock
(on SQLite, a lookup that also wrote `last_used_at` queued behind the other writers and failed
with "database is locked": 503 STORE_UNAVAILABLE), and each key's last use still reaches
`apiKeys` through the meter."""

from __future__ import annotations

import asyncio
import time

import httpx

from graph.edge.authn import TokenCache
from graph.edge.budget import InProcessBudget
from graph.edge.demand import DemandControl
from graph.edge.usage import UsageMeter
from graph.gateway import create_app
from graph.in_process import router_for_subgraphs
from nexus.assembly.registry import load_subgraph
from nexus.auth.authenticator import Authenticator
from nexus.stores import Stores
from subgraphs.platform.billing import PlatformUsageSink
from subgraphs.platform.services import authenticator_for
from tests.platform.conftest import GraphQL, sign_up

KEYS = 100  # an organisation's most live keys
ROUNDS = 2
CREATE = """
mutation($name: String!) {
  createApiKey(name: $name, scopes: ["platform:read"]) { secret apiKey { id } }
}
"""
QUERY = "{ apiKeys { id name } watchlists { name } }"


async def test_concurrent_first_uses_of_many_keys_while_usage_is_written(
    graphql: GraphQL, authenticator: Authenticator, stores: Stores
) -> None:
    account = await sign_up(graphql, authenticator)
    secrets = []
    for n in range(KEYS):
        created = await graphql(CREATE, account.caller, name=f"key {n}")
        assert created.data is not None, created.errors
        secrets.append(created.data["createApiKey"]["secret"])
    # The meter writes a small batch as often as it can: usage is being written all the time.
    meter = UsageMeter(
        PlatformUsageSink(stores.require_platform()), batch_size=5, interval_seconds=0.001
    )
    router = router_for_subgraphs(
        [load_subgraph("platform")],
        stores,
        demand=DemandControl(InProcessBudget(), enforce=True),
        usage=meter,
    )
    app = create_app(router, authenticator=TokenCache(authenticator_for(stores)))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nexus", timeout=120
    ) as client:

        async def use(secret: str) -> httpx.Response:
            return await client.post(
                "/graphql", json={"query": QUERY}, headers={"X-API-Key": secret}
            )

        async def busy_loop() -> None:
            """The rest of a loaded router's work: the event loop is busy 20 ms at a time, so a
            lookup's transaction waits that long between its statements."""
            while True:
                time.sleep(0.02)  # noqa: ASYNC251 -- blocking the loop is the point
                await asyncio.sleep(0)

        # Every key's first use at once, then again (cached), each round all concurrent.
        busy = asyncio.create_task(busy_loop())
        responses = []
        try:
            for _ in range(ROUNDS):
                responses += await asyncio.gather(*(use(secret) for secret in secrets))
        finally:
            busy.cancel()
    await router.close()  # the meter's last batch

    assert [r.status_code for r in responses] == [200] * (KEYS * ROUNDS)
    bodies = [r.json() for r in responses]
    assert [body.get("errors") for body in bodies] == [None] * (KEYS * ROUNDS)
    assert all(len(body["data"]["apiKeys"]) == KEYS for body in bodies)
    assert meter.written == KEYS * ROUNDS
    listed = await graphql("{ apiKeys { lastUsedAt } }", account.caller)
    assert listed.data is not None
    assert [key["lastUsedAt"] is not None for key in listed.data["apiKeys"]] == [True] * KEYS
