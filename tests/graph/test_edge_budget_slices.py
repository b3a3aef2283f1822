"""The shared budget in slices: a caller whose operations are small against its plan costs the
router a Redis round trip per slice of its budget, not per operation, and the budget stays one
across router processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from graph.edge import budget as budget_module
from graph.edge.budget import Debit, LeasedBudget, RedisBudget, open_budget
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


async def _load_scripts(budget: LeasedBudget) -> None:
    """Both scripts loaded into Redis (each first call is a failed EVALSHA, then a load)."""
    await budget.shared.debit("warm-up", 1, 1)
    await budget.shared.take_each([("warm-up", 0, 1)])


async def test_small_operations_cost_a_round_trip_per_slice(redis_server: RedisServer) -> None:
    budget = open_budget(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    assert isinstance(budget, LeasedBudget)
    await _load_scripts(budget)
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
    await _load_scripts(budget)
    _reset_stats(redis_server.url)
    try:
        # The free plan's 10,000 a minute make 100-unit slices: a 1,550-unit operation is large.
        debits = [await budget.debit("caller", 1_550, 10_000) for _ in range(7)]
    finally:
        await budget.close()
    assert [debit.allowed for debit in debits] == [True] * 6 + [False]
    assert _script_calls(redis_server.url) == 7


async def test_first_slices_of_callers_arriving_together_are_taken_in_one_call(
    redis_server: RedisServer,
) -> None:
    """100 API keys' first operations arriving together (as when their batched lookups
    return): one script call takes all 100 slices, and Redis holds exactly what was taken."""
    url = redis_server.url
    prefix = f"test:{uuid.uuid4().hex}:"
    budget = _leased(url, prefix, window=3_600.0)  # slow refill: 278 units a second
    limit = 1_000_000  # slices of 10,000 units
    await _load_scripts(budget)
    try:
        _reset_stats(url)
        debits = await asyncio.gather(*(budget.debit(f"key:{n}", 10, limit) for n in range(100)))
        assert _script_calls(url) == 1
        assert all(debit.allowed for debit in debits)
        # Told: the bucket after the take (10 + 10,000) plus the slice held here.
        assert {debit.remaining for debit in debits} == {limit - 10}
        client = redis.Redis.from_url(url)
        for n in range(5):
            tokens = float(client.hget(f"{prefix}key:{n}", "tokens") or 0)
            assert limit - 10_010 <= tokens <= limit - 10_010 + 100
        _reset_stats(url)
        again = [await budget.debit(f"key:{n}", 10, limit) for n in range(100)]
        assert _script_calls(url) == 0  # served from the slices
        assert all(debit.allowed for debit in again)
    finally:
        await budget.close()


async def test_slices_in_use_are_topped_up_together_in_one_call(
    redis_server: RedisServer,
) -> None:
    """200 callers (API keys in rotation) each using their slice past half its time: one
    script call tops up all 200 in the background, and their next operations, after the
    slices' first time is over, are still served here. Redis holds exactly what was taken."""
    url = redis_server.url
    prefix = f"test:{uuid.uuid4().hex}:"
    budget = _leased(url, prefix, window=3_600.0)  # slow refill: 278 units a second
    budget.SLICE_SECONDS = 1.0
    budget.TOP_UP_SECONDS = 0.1
    limit = 1_000_000  # slices of 10,000 units
    callers = [f"key:{n}" for n in range(200)]
    await _load_scripts(budget)
    try:
        _reset_stats(url)
        for caller in callers:  # each takes its slice: 10 units plus 10,000 held
            assert (await budget.debit(caller, 10, limit)).allowed
        assert _script_calls(url) == 200
        await asyncio.sleep(0.6)  # past half the slices' time
        _reset_stats(url)
        for caller in callers:  # served from the slices; each slice is now due
            assert (await budget.debit(caller, 10, limit)).allowed
        assert _script_calls(url) == 0
        await asyncio.sleep(0.3)
        assert _script_calls(url) == 1  # the top-ups, all 200 in one call
        await asyncio.sleep(0.3)  # 1.2 s after the slices were taken: their first time over
        _reset_stats(url)
        debits = [await budget.debit(caller, 10, limit) for caller in callers]
        assert _script_calls(url) == 0
        assert all(debit.allowed for debit in debits)
        # What each caller was told is left: the bucket after the top-up plus the slice.
        assert all(limit - 10_040 <= debit.remaining <= limit for debit in debits)
        client = redis.Redis.from_url(url)
        for caller in callers[:5]:
            # Taken: 10 + 10,000 for the slice, then the 10 spent from it topped up: 10,020,
            # less the refill since (about a second at 278 a second).
            tokens = float(client.hget(prefix + caller, "tokens") or 0)
            assert limit - 10_020 <= tokens <= limit - 10_020 + 600
    finally:
        await budget.close()


async def test_a_top_up_counts_what_was_spent_meanwhile_and_takes_nothing_from_a_short_bucket(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A top-up makes the slice whole, less what operations spent from it while the call was
    on its way (the units it takes were counted before them); and from a bucket that cannot
    give the whole top-up it takes nothing: the slice runs out, then operations are debited
    exactly from what the bucket still holds."""
    clock = [1_000.0]
    monkeypatch.setattr(budget_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    prefix = f"test:{uuid.uuid4().hex}:"
    budget = _leased(redis_server.url, prefix, window=3_600.0)  # 3.3 units of refill a second
    budget.TOP_UP_SECONDS = 0.001
    limit = 12_000  # slices of 120 units
    take_each = budget.shared.take_each
    during: list[Debit] = []

    async def with_operations_meanwhile(takes: list[tuple[str, int, int]]) -> list[Any]:
        taken = await take_each(takes)
        during.extend([await budget.debit("caller", 10, limit) for _ in range(3)])
        return taken

    try:
        assert (await budget.debit("caller", 10, limit)).allowed  # 10, and a slice of 120
        budget.shared.take_each = with_operations_meanwhile  # type: ignore[method-assign]
        clock[0] += 0.6 * budget.SLICE_SECONDS
        assert (await budget.debit("caller", 10, limit)).allowed  # from the slice: now due
        await asyncio.sleep(0.05)
        assert [d.allowed for d in during] == [True] * 3
        # Spent: 10 + 10 + 3 x 10; the slice was topped up by the 10 spent before the call
        # and still lacks the 30 spent during it. Left: 12,000 - 50 - this 10.
        after = await budget.debit("caller", 10, limit)
        assert limit - 60 <= after.remaining <= limit - 60 + 5  # the refill since: 1-2 units

        budget.shared.take_each = take_each  # type: ignore[method-assign]
        held = 80  # 120 - 30 - 10
        bucket = after.remaining - held
        spent = await budget.shared.debit("caller", bucket - 20, limit)  # another process
        assert spent.allowed and 20 <= spent.remaining <= 25
        _reset_stats(redis_server.url)
        clock[0] += 0.6 * budget.SLICE_SECONDS
        debits = [await budget.debit("caller", 10, limit)]  # due: 50 asked, about 20 held
        await asyncio.sleep(0.05)
        assert _script_calls(redis_server.url) == 1  # the top-up, refused
        debits += [await budget.debit("caller", 10, limit) for _ in range(10)]
        assert [d.allowed for d in debits] == [True] * 8 + [True, True, False]
        # The slice's 80 (8 operations), then the bucket's 20 exactly (2), then refused.
        assert debits[-1].retry_after > 0
    finally:
        await budget.close()


@pytest.mark.parametrize("slice_seconds", [1.0, 0.2, 0.0])
async def test_two_routers_taking_slices_spend_one_budget(
    redis_server: RedisServer, slice_seconds: float
) -> None:
    """Two router processes (two LeasedBudgets on one Redis) alternate a caller's 10-unit
    operations until the budget refuses them: together they are allowed what the shared
    bucket holds, neither more (nothing beyond what Redis gave) nor a slice's worth less (what
    a process holds is given back with its next slice, or when it can take no whole slice;
    with slices that expire at once every operation takes a new one and gives the old back;
    with short slices they are topped up in the background while operations go on, and a
    bucket that cannot give a whole top-up gives nothing)."""
    prefix = f"test:{uuid.uuid4().hex}:"
    # 12,000 units an hour: slices of 120 units, and refills (3.3 units a second) too slow to
    # hide a slice lost
    window = 3_600.0
    routers = [_leased(redis_server.url, prefix, window) for _ in range(2)]
    for router in routers:
        router.SLICE_SECONDS = slice_seconds
        router.TOP_UP_SECONDS = 0.01
    limit = 12_000
    allowed = refused = 0
    started = time.monotonic()
    try:
        n = 0
        while refused < 20:
            debit = await routers[n % 2].debit("caller", 10, limit)
            n += 1
            if n % 3 == 0:
                await asyncio.sleep(0.001)  # top-ups run (and their calls end) between debits
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
    await _load_scripts(budget)
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
