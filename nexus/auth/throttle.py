"""Sign-in throttling: a fixed-window counter per account and per client address.

A window allows `limit` attempts; the next ones are refused until the window ends. Counters live
in Redis when `REDIS_URL` is `redis://` (shared by every process), in this process otherwise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from nexus.errors import CodedError

ACCOUNT_ATTEMPTS = 5  # failed sign-ins per account per window
ADDRESS_ATTEMPTS = 20  # sign-ins per client address per window
WINDOW_SECONDS = 300


class TooManyAttempts(CodedError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many sign-in attempts; try again in {retry_after} seconds.",
            retryAfter=retry_after,
        )


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Counts one attempt under `key`; returns (attempts in this window, seconds left)."""
        ...

    async def count(self, key: str) -> tuple[int, int]: ...

    async def clear(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, capacity: int = 100_000):
        self._clock = clock
        self._capacity = capacity
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            if len(self._windows) >= self._capacity:
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            ends, count = now + window, 0
        self._windows[key] = (ends, count + 1)
        return count + 1, math.ceil(ends - now)

    async def count(self, key: str) -> tuple[int, int]:
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        return (0, 0) if ends <= now else (count, math.ceil(ends - now))

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisCounter:
    def __init__(self, url: str, prefix: str = "nexus:signin:") -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(int(ttl), 1)

    async def count(self, key: str) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        return (int(count or 0), max(int(ttl), 0))

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


def counter_for(redis_url: str) -> Counter:
    if redis_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCounter(redis_url)
    return MemoryCounter()


class SignInThrottle:
    """Refuses sign-ins past the limits; failures count per account, all tries per address."""

    def __init__(
        self,
        counter: Counter,
        *,
        account_attempts: int = ACCOUNT_ATTEMPTS,
        address_attempts: int = ADDRESS_ATTEMPTS,
        window_seconds: int = WINDOW_SECONDS,
    ) -> None:
        self._counter = counter
        self._account_attempts = account_attempts
        self._address_attempts = address_attempts
        self._window = window_seconds

    async def before_attempt(self, account: str, address: str | None) -> None:
        """Raises `TooManyAttempts` when the account or the address is over its limit."""
        failures, left = await self._counter.count(f"account:{account}")
        if failures >= self._account_attempts:
            raise TooManyAttempts(left)
        if address is not None:
            attempts, left = await self._counter.hit(f"address:{address}", self._window)
            if attempts > self._address_attempts:
                raise TooManyAttempts(left)

    async def failed(self, account: str) -> None:
        await self._counter.hit(f"account:{account}", self._window)

    async def succeeded(self, account: str) -> None:
        await self._counter.clear(f"account:{account}")
