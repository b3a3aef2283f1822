"""The sign-in throttle's counters: in-process, and in Redis shared by every process."""

from __future__ import annotations

import secrets

import pytest

from nexus.auth.throttle import MemoryCounter, RedisCounter, SignInThrottle, TooManyAttempts
from tests.conftest import REDIS_URL


@pytest.mark.redis
async def test_two_processes_on_one_redis_share_one_count() -> None:
    prefix = f"nexus:test:{secrets.token_hex(6)}:"
    first, second = RedisCounter(REDIS_URL, prefix), RedisCounter(REDIS_URL, prefix)
    throttles = [SignInThrottle(counter, account_attempts=3) for counter in (first, second)]
    try:
        for throttle in (*throttles, throttles[0]):  # three failures, across both "processes"
            await throttle.before_attempt("ada@example.com", "203.0.113.9")
            await throttle.failed("ada@example.com")

        with pytest.raises(TooManyAttempts) as raised:
            await throttles[1].before_attempt("ada@example.com", "203.0.113.9")
        await throttles[1].before_attempt("grace@example.com", "203.0.113.10")  # others pass
    finally:
        await first.clear("account:ada@example.com")
        for address in ("203.0.113.9", "203.0.113.10"):
            await first.clear(f"address:{address}")
        await first.close()
        await second.close()

    assert raised.value.extensions is not None
    assert raised.value.extensions["code"] == "RATE_LIMITED"
    assert 0 < raised.value.extensions["retryAfter"] <= 300


async def test_a_window_ends_and_success_clears_the_account() -> None:
    now = [0.0]
    throttle = SignInThrottle(MemoryCounter(clock=lambda: now[0]), account_attempts=2)
    for _ in range(2):
        await throttle.failed("ada@example.com")
    with pytest.raises(TooManyAttempts):
        await throttle.before_attempt("ada@example.com", None)

    now[0] = 301.0  # the 5-minute window is over
    await throttle.before_attempt("ada@example.com", None)
    await throttle.failed("ada@example.com")
    await throttle.succeeded("ada@example.com")
    await throttle.failed("ada@example.com")
    await throttle.before_attempt("ada@example.com", None)  # one failure since success
