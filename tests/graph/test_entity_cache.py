"""The entity and response cache: per entity and subgraph, private entries per caller, errors
never cached, invalidation from the bus, hit ratio on /metrics; in-process and in Redis."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from graphql import parse

from graph.cache import CachePolicy, CachingTransport, Hint, MemoryEntityStore, RedisEntityStore
from graph.cache.store import EntityStore
from graph.gateway import create_app
from nexus.auth.caller import Caller
from nexus.stores.bus import InProcessBus
from tests.conftest import REDIS_URL
from tests.graph.support import RecordingTransport, router_over
from tests.graph.test_defer import RATINGS
from tests.graph.test_entities import SCHEMAS

SHIPPING = "query($n: Int) { topProducts(first: $n) { name inStock shippingEstimate } }"
POLICY = CachePolicy(enabled=True, default_max_age=60, private_subgraphs=frozenset({"accounts"}))


def cached_router(store: EntityStore, policy: CachePolicy = POLICY, bus: Any = None) -> Any:
    router, recording = router_over({**SCHEMAS, "ratings": RATINGS})
    router.transport = CachingTransport(recording, store, policy, bus=bus)
    return router, recording


def entity_calls(recording: RecordingTransport, service: str) -> list[list[Any]]:
    """The representations of each `_entities` call made to `service`."""
    return [
        variables["representations"]
        for name, _, variables in recording.requests
        if name == service and variables and "representations" in variables
    ]


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_repeated_entities_come_from_the_cache(backend: str) -> None:
    store: EntityStore = (
        MemoryEntityStore()
        if backend == "memory"
        else RedisEntityStore(REDIS_URL, prefix=f"test:entity:{uuid.uuid4().hex}:")
    )
    router, recording = cached_router(store)
    first = await router.execute(SHIPPING, {"n": 2})
    assert first == {
        "data": {
            "topProducts": [
                {"name": "Table", "inStock": True, "shippingEstimate": 20},
                {"name": "Couch", "inStock": False, "shippingEstimate": 0},
            ]
        }
    }
    recording.requests.clear()
    assert await router.execute(SHIPPING, {"n": 2}) == first
    assert recording.requests == []  # the root fetch and both entities were cached
    # One more product: only its representation goes to inventory.
    more = await router.execute(SHIPPING, {"n": 3})
    assert more["data"]["topProducts"][2] == {
        "name": "Chair",
        "inStock": True,
        "shippingEstimate": 3,
    }
    assert [[r["upc"] for r in call] for call in entity_calls(recording, "inventory")] == [["3"]]
    assert router.transport.hits > 0
    await router.transport.close()


async def test_failed_entities_are_not_cached_and_keep_their_error_paths() -> None:
    router, recording = cached_router(MemoryEntityStore())
    query = "{ topProducts(first: 2) { upc rating } }"
    first = await router.execute(query)
    assert first["errors"][0]["path"] == ["topProducts", 1, "rating"]
    recording.requests.clear()
    assert await router.execute(query) == first
    # The couch's failed rating is asked for again, alone; the table's came from the cache.
    assert [[r["upc"] for r in call] for call in entity_calls(recording, "ratings")] == [["2"]]


async def test_private_entries_are_kept_per_caller() -> None:
    router, recording = cached_router(MemoryEntityStore())
    ada = Caller(kind="user", user_id="u-ada", organization_id="org-1")
    grace = Caller(kind="user", user_id="u-grace", organization_id="org-2")
    query = "{ me { name } }"
    for caller in (ada, ada, grace):
        assert await router.execute(query, caller=caller) == {
            "data": {"me": {"name": "Ada Lovelace"}}
        }
    # accounts is private: ada's second request hit her entry; grace did not see it.
    assert [s for s, _, _ in recording.requests] == ["accounts", "accounts"]


async def test_a_market_event_invalidates_that_symbols_entries() -> None:
    bus = InProcessBus()
    router, recording = cached_router(MemoryEntityStore(), bus=bus)
    query = "{ topProducts(first: 2) { upc inStock } }"
    await router.execute(query)
    recording.requests.clear()
    await router.execute(query)
    assert recording.requests == []
    # A new candle for "1" (the table's key) drops what was cached about it, nothing else.
    delivered = await bus.publish("market.1", {"type": "market.tick", "symbol": "1"})
    assert delivered == 1
    for _ in range(20):  # the invalidation runs on the bus subscriber's task
        await asyncio.sleep(0)
    await router.execute(query)
    assert [[r["upc"] for r in call] for call in entity_calls(recording, "inventory")] == [["1"]]
    await router.transport.close()


async def test_hit_ratio_and_policy_from_env_and_schema() -> None:
    router, _ = cached_router(MemoryEntityStore())
    app = create_app(router, rest=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nexus"
    ) as client:
        for _ in range(2):
            await client.post("/graphql", json={"query": "{ topProducts(first: 1) { inStock } }"})
        metrics = (await client.get("/metrics")).text
    assert 'nexus_entity_cache_lookups_total{result="hit",subgraph="inventory"}' in metrics
    ratio = next(
        line for line in metrics.splitlines() if line.startswith("nexus_entity_cache_hit_ratio ")
    )
    assert 0.0 < float(ratio.split()[1]) <= 1.0
    schema = parse(
        "type Token @cacheControl(maxAge: 5) { symbol: String } "
        "type Query { me: String @cacheControl(maxAge: 7, scope: PRIVATE) }"
    )
    policy = CachePolicy.from_env(
        {"NEXUS_ENTITY_CACHE": "on", "NEXUS_ENTITY_CACHE_HINTS": "Series=300"}, schema
    )
    assert policy.enabled
    assert policy.for_entity("crypto", "Token") == Hint(5)
    assert policy.for_entity("macro", "Series") == Hint(300)
    assert policy.for_root("accounts", "Query", ["me"]) == Hint(7, private=True)
    assert policy.for_entity("platform", "Watchlist") == Hint(0)  # never cached by default
    cached_platform = CachePolicy.from_env({"NEXUS_ENTITY_CACHE_UNCACHED_SUBGRAPHS": ""})
    assert cached_platform.for_entity("platform", "Watchlist") == Hint(30, private=True)
    assert not CachePolicy.from_env({}).enabled


async def test_a_mutations_entity_fields_are_fetched_fresh() -> None:
    from tests.graph.test_mutations import JOURNAL
    from tests.graph.test_mutations import SCHEMAS as MUTATION_SCHEMAS

    router, _ = router_over(MUTATION_SCHEMAS)
    router.transport = CachingTransport(router.transport, MemoryEntityStore(), POLICY)
    JOURNAL.clear()
    for _ in range(2):
        assert await router.execute("{ watchlist { alerts } }") == {
            "data": {"watchlist": {"alerts": 3}}
        }
    assert JOURNAL == ["alerts:w1"]  # the second query's alerts came from the cache
    renamed = await router.execute('mutation { renameWatchlist(name: "Core") { name alerts } }')
    assert renamed == {"data": {"renameWatchlist": {"name": "Core", "alerts": 3}}}
    assert JOURNAL == ["alerts:w1", "rename:Core", "alerts:w1"]  # asked again after the write
