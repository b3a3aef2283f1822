"""Each caller's cost budget: a token bucket of `cost_per_minute` units refilled continuously.

One bucket per caller (`Caller.rate_key`), shared by every router process through Redis: one
Lua script reads, refills, debits and writes the bucket atomically, on Redis's own clock (so
router hosts need no synchronised clocks). The embedded default (`REDIS_URL=memory://`) keeps
the buckets in this process with the same arithmetic.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from nexus.stores.redis_client import pooled_client

log = logging.getLogger("graph.edge")

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Debit:
    allowed: bool
    limit: int  # cost units per window
    remaining: int  # cost units left after this debit
    retry_after: float  # seconds until the refused cost would fit (0 when allowed)
    reset: float  # seconds until the bucket is full again
    window: float = WINDOW_SECONDS


class Budget(Protocol):
    async def debit(self, key: str, cost: int, limit: int) -> Debit: ...

    async def close(self) -> None: ...


def _debit(tokens: float, cost: int, limit: int, window: float) -> tuple[float, Debit]:
    """Debit `cost` from a bucket holding `tokens` (already refilled); the new tokens and the
    outcome. The same rule the Lua script applies."""
    allowed = cost <= tokens
    if allowed:
        tokens -= cost
    rate = limit / window  # units per second
    retry = 0.0 if allowed else (cost - tokens) / rate if rate else math.inf
    reset = (limit - tokens) / rate if rate else math.inf
    return tokens, Debit(allowed, limit, int(tokens), retry, reset, window)


class InProcessBudget:
    """Buckets in this process (the embedded default); at most `max_keys` callers are kept,
    the least recently seen forgotten first (a forgotten caller starts with a full bucket)."""

    def __init__(self, *, window: float = WINDOW_SECONDS, max_keys: int = 100_000) -> None:
        self.window = window
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    async def debit(self, key: str, cost: int, limit: int) -> Debit:
        now = time.monotonic()
        tokens, at = self._buckets.pop(key, (float(limit), now))
        tokens = min(float(limit), tokens + (now - at) * limit / self.window)
        tokens, outcome = _debit(tokens, cost, limit, self.window)
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
        return outcome

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1]: the bucket; ARGV: limit (units per window), cost, window (ms).
# Returns allowed (0/1), tokens left, retry-after and reset (ms).
_DEBIT_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or limit
local at = tonumber(state[2]) or now_ms
tokens = math.min(limit, tokens + math.max(0, now_ms - at) * limit / window)
local allowed = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now_ms)
redis.call('PEXPIRE', KEYS[1], window)
local retry = 0
if allowed == 0 then
  retry = math.ceil((cost - tokens) * window / limit)
end
local reset = math.ceil((limit - tokens) * window / limit)
return {allowed, math.floor(tokens), retry, reset}
"""


class RedisBudget:
    """Buckets in Redis under `prefix`; one round trip (EVALSHA) per debit. When Redis cannot be
    reached the operation is let through (logged): the budget protects the service, an outage of
    the budget store must not take the API down with it."""

    def __init__(
        self, url: str, *, prefix: str = "nexus:budget:", window: float = WINDOW_SECONDS
    ) -> None:
        self.client: Any = pooled_client(url)
        self.prefix = prefix
        self.window = window
        self._script = self.client.register_script(_DEBIT_SCRIPT)

    async def debit(self, key: str, cost: int, limit: int) -> Debit:
        if limit <= 0:
            return Debit(False, limit, 0, math.inf, math.inf, self.window)
        try:
            allowed, tokens, retry, reset = await self._script(
                keys=[self.prefix + key], args=[limit, cost, int(self.window * 1000)]
            )
        except Exception as error:
            log.warning("cost budget store unavailable (%s); not debited", type(error).__name__)
            return Debit(True, limit, limit, 0.0, 0.0, self.window)
        return Debit(
            bool(allowed), limit, int(tokens), int(retry) / 1000, int(reset) / 1000, self.window
        )

    async def close(self) -> None:
        await self.client.aclose()


def open_budget(url: str, *, prefix: str = "nexus:budget:") -> Budget:
    """The budget store for `REDIS_URL`: Redis, or this process for `memory://`."""
    if url.startswith("memory://"):
        return InProcessBudget()
    return RedisBudget(url, prefix=prefix)
