"""The shared budget in slices: a caller whose operations are small against its plan costs the
router a Redis round trip per slice of its budget, not per operation, and the budget stays one
across router processes."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis

from graph.edge.budget import LeasedBudget, RedisBudget, open_budget
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


def _script_calls(url: str) -> int:
    """EVALSHA and EVAL calls the Redis server has answered since its statistics were reset."""
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


def _reset_stats(url: str) -> None:
    redis.Redis.from_url(url).config_resetstat()


def _leased(url: str, prefix: str, window: float = 60.0) -> LeasedBudget:
    return LeasedBudget(RedisBudget(url, prefix=prefix, window=window))


async def test_small_operations_cost_a_round_trip_per_slice(redis_server: RedisServer) -> None:
    budget = open_budget(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    assert isinstance(budget, LeasedBudget)
    await budget.debit("warm-up", 1, 1)  # the script loaded into Redis (a failed EVALSHA first)
    _reset_stats(redis_server.url)
    try:
        # 1,000 operations of 10 units against 1,000,000 a minute: one slice of 10,000 units.
        debits = [await budget.debit("caller", 10, 1_000_000) for _ in range(1_000)]
    finally:
        await budget.close()
    assert all(debit.allowed for debit in debits)
    assert _script_calls(redis_server.url) == 1
    # What the caller is told is left: the shared bucket's after the slice, plus what is left
    # of the slice: 1,000,000 - 10 x 1,000 (refills since the slice are not counted).
    assert [debit.remaining for debit in debits[:3]] == [999_990, 999_980, 999_970]
    assert debits[-1].remaining == 990_000


async def test_large_operations_are_debited_in_redis_each_time(redis_server: RedisServer) -> None:
    budget = _leased(redis_server.url, f"test:{uuid.uuid4().hex}:")
    await budget.debit("warm-up", 1, 1)
    _reset_stats(redis_server.url)
    try:
        # The free plan's 10,000 a minute make 100-unit slices: a 1,550-unit operation is large.
        debits = [await budget.debit("caller", 1_550, 10_000) for _ in range(7)]
    finally:
        await budget.close()
    assert [debit.allowed for debit in debits] == [True] * 6 + [False]
    assert _script_calls(redis_server.url) == 7


@pytest.mark.parametrize("slice_seconds", [1.0, 0.0])
async def test_two_routers_taking_slices_spend_one_budget(
    redis_server: RedisServer, slice_seconds: float
) -> None:
    """Two router processes (two LeasedBudgets on one Redis) alternate a caller's 10-unit
    operations until the budget refuses them: together they are allowed what the shared
    bucket holds, neither more (nothing beyond what Redis gave) nor a slice's worth less (what
    a process holds is given back with its next slice, or when it can take no whole slice;
    with slices that expire at once every operation takes a new one and gives the old back)."""
    prefix = f"test:{uuid.uuid4().hex}:"
    # 12,000 units an hour: slices of 120 units, and refills (3.3 units a second) too slow to
    # hide a slice lost
    window = 3_600.0
    routers = [_leased(redis_server.url, prefix, window) for _ in range(2)]
    for router in routers:
        router.SLICE_SECONDS = slice_seconds
    limit = 12_000
    allowed = refused = 0
    started = time.monotonic()
    try:
        n = 0
        while refused < 20:
            debit = await routers[n % 2].debit("caller", 10, limit)
            n += 1
            if debit.allowed:
                allowed += 10
                refused = 0
            else:
                refused += 1
            assert n < 5_000, "the budget never refused"
    finally:
        for router in routers:
            await router.close()
    refilled = (time.monotonic() - started) * limit / window
    assert limit - 20 <= allowed <= limit + refilled + 10


async def test_with_redis_unreachable_operations_pass_and_report_no_more_than_the_quota() -> None:
    budget = open_budget("redis://127.0.0.1:1/0")
    try:
        debits = [await budget.debit("caller", 10, 1_000_000) for _ in range(3)]
    finally:
        await budget.close()
    assert all(debit.allowed for debit in debits)
    assert all(debit.remaining <= 1_000_000 for debit in debits)


async def test_a_bucket_found_empty_refuses_here_until_the_refill_could_pay(
    redis_server: RedisServer,
) -> None:
    """A caller past its budget (a client flooding the API) is refused without a round trip
    per request, with the Retry-After Redis gave, until the refill since the refusal could pay
    for the operation; then Redis is asked again and allows it. An operation the refill can
    already pay for is asked of Redis at once."""
    # 6,000 units per 6 s window: 1,000 units a second; 1,000-unit operations are large.
    budget = _leased(redis_server.url, f"test:{uuid.uuid4().hex}:", window=6.0)
    await budget.debit("warm-up", 1, 1)
    try:
        spent = [await budget.debit("caller", 1_000, 6_000) for _ in range(7)]
        assert [debit.allowed for debit in spent] == [True] * 6 + [False]
        first = spent[-1]
        assert 0 < first.retry_after <= 1.0
        _reset_stats(redis_server.url)
        flood = [await budget.debit("caller", 1_000, 6_000) for _ in range(200)]
        assert _script_calls(redis_server.url) == 0
        assert not any(debit.allowed for debit in flood)
        # What they report follows the refill since the refusal (Redis's figures, held here).
        assert all(0 < debit.retry_after <= first.retry_after for debit in flood)
        assert all(first.remaining <= debit.remaining < 1_000 for debit in flood)
        assert [d.retry_after for d in flood] == sorted(
            (d.retry_after for d in flood), reverse=True
        )

        await asyncio.sleep(flood[-1].retry_after + 0.05)
        _reset_stats(redis_server.url)
        again = await budget.debit("caller", 1_000, 6_000)
        assert again.allowed
        assert _script_calls(redis_server.url) == 1

        while (await budget.debit("caller", 1_000, 6_000)).allowed:
            pass  # empty again
        await asyncio.sleep(0.01)  # 10 units of refill
        _reset_stats(redis_server.url)
        small = await budget.debit("caller", 1, 6_000)  # the refill can pay for it: asked
        assert small.allowed
        assert _script_calls(redis_server.url) >= 1
    finally:
        await budget.close()
