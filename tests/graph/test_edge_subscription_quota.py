"""The plan's cap on concurrent subscriptions is one count for every router process: leases in
Redis (a real `redis-server`), renewed by the router that holds them and expiring when it dies."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from graph.edge.subscriptions import InProcessLeases, RedisLeases, SubscriptionQuota
from graph.gateway import create_app
from graph.in_process import in_process_router
from graph.subscriptions.session import SubscriptionSettings
from tests.graph.edge_support import ANALYST, SCHEMAS, ContextLog, authenticator
from tests.support.live import LiveServer, TransportWsClient
from tests.support.redis_server import RedisServer

ALERTS = "subscription { alerts }"
SETTINGS = SubscriptionSettings(keepalive_seconds=30, init_timeout_seconds=5)


async def _next_for(client: TransportWsClient, id: str) -> dict[str, object]:
    while (message := await client.receive())["id"] != id:
        pass
    return message


@pytest.mark.redis
async def test_two_routers_on_one_redis_share_the_plans_subscription_cap(
    redis_server: RedisServer,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    routers = [in_process_router(SCHEMAS, contexts=ContextLog().contexts()) for _ in range(2)]
    for router in routers:
        router.subscription_quota = SubscriptionQuota(RedisLeases(redis_server.url, prefix=prefix))
    apps = [create_app(r, authenticator=authenticator(), subscriptions=SETTINGS) for r in routers]
    async with LiveServer(apps[0]) as first, LiveServer(apps[1]) as second:
        key = {"x-api-key": "nxa_analyst"}  # the pro plan: two subscriptions
        on_first = await TransportWsClient.connect(first.ws_url, **key)
        on_second = await TransportWsClient.connect(second.ws_url, **key)
        await on_first.subscribe("1", ALERTS)
        assert (await _next_for(on_first, "1"))["type"] == "next"
        await on_second.subscribe("2", ALERTS)
        assert (await _next_for(on_second, "2"))["type"] == "next"
        # A third, on either router, is over the plan's two.
        for client in (on_first, on_second):
            await client.subscribe("3", ALERTS)
            refused = await _next_for(client, "3")
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"  # type: ignore[index]
        # Completing one on the first router frees a place on the second.
        await on_first.send({"id": "1", "type": "complete"})
        await asyncio.sleep(0.1)
        await routers[0].subscription_quota.renew()  # what its renewer does every few seconds
        await on_second.subscribe("4", ALERTS)
        assert (await _next_for(on_second, "4"))["type"] == "next"
        await on_first.close()
        await on_second.close()


@pytest.mark.redis
async def test_a_dead_routers_leases_expire(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    dying = SubscriptionQuota(RedisLeases(redis_server.url, prefix=prefix, lease_seconds=1))
    survivor = SubscriptionQuota(RedisLeases(redis_server.url, prefix=prefix, lease_seconds=1))
    for _ in range(2):
        assert not isinstance(await dying.admit(ANALYST), dict)
    # The router dies: it neither renews nor releases its leases.
    assert dying._renewer is not None
    dying._renewer.cancel()
    refused = await survivor.admit(ANALYST)
    assert isinstance(refused, dict)
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    await asyncio.sleep(1.2)
    assert not isinstance(await survivor.admit(ANALYST), dict)
    await survivor.close()
    await dying.store.close()


@pytest.mark.redis
async def test_live_leases_are_renewed_past_their_lease_time(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    holder = SubscriptionQuota(RedisLeases(redis_server.url, prefix=prefix, lease_seconds=1))
    other = SubscriptionQuota(RedisLeases(redis_server.url, prefix=prefix, lease_seconds=1))
    for _ in range(2):
        assert not isinstance(await holder.admit(ANALYST), dict)
    await asyncio.sleep(1.5)  # past the lease time: only the holder's renewals keep them
    assert isinstance(await other.admit(ANALYST), dict)
    await holder.close()  # releases them
    assert not isinstance(await other.admit(ANALYST), dict)
    await other.close()


async def test_the_embedded_default_counts_in_this_process() -> None:
    quota = SubscriptionQuota(InProcessLeases())
    leases = [await quota.admit(ANALYST) for _ in range(3)]
    assert [isinstance(lease, dict) for lease in leases] == [False, False, True]
    first = leases[0]
    assert not isinstance(first, dict)
    await quota.release(first)
    assert not isinstance(await quota.admit(ANALYST), dict)
    await quota.close()
