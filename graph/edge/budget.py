"""Each caller's cost budget: a token bucket of `cost_per_minute` units refilled continuously.

One bucket per caller (`Caller.rate_key`), shared by every router process through Redis: one
Lua script reads, refills, debits and writes the bucket atomically, on Redis's own clock (so
router hosts need no synchronised clocks). The embedded default (`REDIS_URL=memory://`) keeps
the buckets in this process with the same arithmetic.

`LeasedBudget` (what `open_budget` gives for Redis) spares callers whose operations are small
against their plan a round trip per request: it takes a slice of their budget from the shared
bucket at a time (the slices of callers arriving together in one script call) and debits it in
this process for up to ten seconds; a slice still in use halfway through is topped up in the
background, the slices of every caller due at the same time in one script call (a thousand API
keys in rotation: one round trip every half second, not a hundred a second). It also remembers
a bucket found empty, so a caller past its budget (a client flooding the API) is refused in
this process until the refill could pay for its operation, not with a round trip per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
  tokens = math.min(limit, tokens - cost)
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


# The same bucket rule for many buckets at once, taking units only where a bucket holds them all
# (a slice topped up). KEYS: the buckets; ARGV[1]: window (ms), then per bucket its limit and
# the units to take. Returns per bucket taken (0/1) and the tokens left.
_TOP_UP_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
local results = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local take = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or limit
  local at = tonumber(state[2]) or now_ms
  tokens = math.min(limit, tokens + math.max(0, now_ms - at) * limit / window)
  local taken = 0
  if take <= tokens then
    tokens = tokens - take
    taken = 1
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now_ms)
  redis.call('PEXPIRE', key, window)
  results[#results + 1] = taken
  results[#results + 1] = math.floor(tokens)
end
return results
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
        self._top_up_script = self.client.register_script(_TOP_UP_SCRIPT)

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

    async def take_each(self, takes: list[tuple[str, int, int]]) -> list[tuple[bool, int]]:
        """For each (key, units, limit): whether the bucket held `units` and gave them, and the
        units it holds after; one round trip for all. Raises when Redis cannot be reached."""
        keys = [self.prefix + key for key, _, _ in takes]
        args: list[int] = [int(self.window * 1000)]
        for _, units, limit in takes:
            args += [limit, units]
        flat = await self._top_up_script(keys=keys, args=args)
        return [(bool(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def close(self) -> None:
        await self.client.aclose()


@dataclass(frozen=True, slots=True)
class _Empty:
    """A bucket the shared store refused an operation from."""

    tokens: float  # at most what the bucket held after the refusal (Redis reports it floored)
    at: float  # time.monotonic() of the refusal
    limit: int  # the plan's units per window then


@dataclass(slots=True)
class _Lease:
    units: int  # cost units taken from the shared bucket and not spent yet
    shared: int  # what the shared bucket held right after the slice was taken
    limit: int  # the plan's units per window when it was taken
    expires: float  # time.monotonic()
    due: bool = False  # queued for a top-up (or its top-up was refused: it runs out instead)


class LeasedBudget:
    """The shared Redis budget, with a round trip per slice instead of per operation for
    callers whose operations are small against their plan.

    An operation of at most a tenth of a slice (a slice is SLICE_SHARE of the caller's budget
    per window) is debited from a slice this process took from the shared bucket; when the
    slice is spent or SLICE_SECONDS old, one script call takes the next one and gives back what
    is left of the old (and debits the operation); the slices of callers asking in the same
    turn of the event loop go in one call. When the bucket cannot give a whole slice,
    the operation is debited exactly, as are larger operations (the free plan's 10,000 units
    a minute make a 100-unit slice: operations over 10 units go to Redis every time). So the
    budget stays one across processes: a process may hold at most one slice per caller that
    others cannot spend (given back at its next operation for that caller), and an operation
    is never allowed beyond what the shared bucket gave. The reported remaining units are the
    bucket's when the slice was taken plus what is left of it (refills since are not counted
    until the next slice: the figure errs low, by at most SLICE_SECONDS of refill).

    A refusal from the shared bucket is remembered: until the refill since then could pay for
    an operation, that operation is refused here with the same Retry-After, without a round
    trip (a caller's bucket only fills by its refill; other processes only spend from it, so
    the bucket holds at most what the refusal left plus the refill). The one exception: a
    slice another process gives back early; an operation it would have paid for is refused
    for at most that operation's refill time.

    A slice used after half its time is topped up in the background: every TOP_UP_SECONDS one
    script call takes, for each caller due, what its slice has spent (so it is whole again,
    never more) and restarts its time; operations go on from the slice meanwhile, and what
    they spend during the round trip is counted against the top-up. A bucket that cannot give
    the whole top-up gives nothing: the slice runs out or expires, and the next operation takes
    a new one or is debited exactly as above. So a caller in steady use never waits for Redis,
    and a thousand callers due together cost one round trip, not a thousand."""

    SLICE_SHARE = 0.01  # of the plan's units per window
    # A key in a rotation of 1,000 at a few hundred requests a second comes round every few
    # seconds: a slice outlives that, so most of its operations stay in this process.
    SLICE_SECONDS = 10.0
    SMALL_SHARE = 0.1  # of a slice: the largest operation served from a slice
    TOP_UP_SECONDS = 0.5  # how long callers due for a top-up are gathered into one call
    TOP_UP_BATCH = 500  # slices per script call at most

    def __init__(self, shared: RedisBudget, *, max_keys: int = 100_000) -> None:
        self.shared = shared
        self.window = shared.window
        self.max_keys = max_keys
        self._leases: dict[str, _Lease] = {}
        self._empty: dict[str, _Empty] = {}  # callers whose bucket was found empty
        self._taking: dict[str, asyncio.Future[None]] = {}  # slices being taken, per caller
        self._due: dict[str, _Lease] = {}  # slices to top up in the next script call
        # slices asked for in this turn of the event loop, sent together
        self._takes: list[tuple[str, int, int, asyncio.Future[tuple[bool, int] | None]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._topping_up: asyncio.Task[None] | None = None

    async def debit(self, key: str, cost: int, limit: int) -> Debit:
        size = int(limit * self.SLICE_SHARE)
        if cost <= 0 or limit <= 0:
            return await self.shared.debit(key, cost, limit)
        empty = self._empty.get(key)
        if empty is not None:
            refused = self._known_refusal(empty, cost, limit)
            if refused is not None:
                return refused
        if cost > size * self.SMALL_SHARE:
            return await self._exact(key, cost, limit)
        while True:
            served = self._from_slice(key, cost, limit)
            if served is not None:
                return served
            taking = self._taking.get(key)
            if taking is None:
                break
            await asyncio.shield(taking)  # another operation is taking the caller's next slice
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._taking[key] = done
        try:
            return await self._take_slice(key, cost, limit, size)
        finally:
            del self._taking[key]
            done.set_result(None)

    def _from_slice(self, key: str, cost: int, limit: int) -> Debit | None:
        lease = self._leases.get(key)
        now = time.monotonic()
        if lease is None or lease.limit != limit or lease.units < cost or lease.expires <= now:
            return None
        lease.units -= cost
        if not lease.due and lease.expires - now < self.SLICE_SECONDS / 2:
            lease.due = True
            self._due[key] = lease
            if self._topping_up is None or self._topping_up.done():
                self._topping_up = asyncio.get_running_loop().create_task(
                    self._top_ups(), name="budget top-ups"
                )
        return self._allowed(limit, lease.shared + lease.units)

    async def _top_ups(self) -> None:
        """Tops up the slices due, all those gathered in TOP_UP_SECONDS in one call."""
        while self._due:
            await asyncio.sleep(self.TOP_UP_SECONDS)
            due, self._due = self._due, {}
            batch = [(key, lease) for key, lease in due.items() if self._leases.get(key) is lease]
            takes = [
                (key, int(lease.limit * self.SLICE_SHARE) - lease.units, lease.limit)
                for key, lease in batch
            ]
            results = await asyncio.gather(*(self._take(*take) for take in takes))
            now = time.monotonic()
            for (key, lease), (_, units, limit), result in zip(batch, takes, results, strict=True):
                if result is None or not result[0]:
                    # Stays due: runs out or expires, then a new slice or exact debits.
                    continue
                if self._leases.get(key) is not lease:  # replaced during the call: give it back
                    if units:
                        await self.shared.debit(key, -units, limit)
                    continue
                # Spent during the call came out of what the slice held before: whole again.
                lease.units += units
                lease.shared = result[1]
                lease.expires = now + self.SLICE_SECONDS
                lease.due = False

    async def _take_slice(self, key: str, cost: int, limit: int, size: int) -> Debit:
        old = self._leases.pop(key, None)
        held = old.units if old is not None else 0  # given back with this call
        # With Redis unreachable, let through undebited (as RedisBudget.debit does).
        allowed, remaining = await self._take(key, cost + size - held, limit) or (True, limit)
        if allowed:
            self._leases[key] = _Lease(
                size, remaining, limit, time.monotonic() + self.SLICE_SECONDS
            )
            if len(self._leases) > self.max_keys:
                del self._leases[next(iter(self._leases))]
            return self._allowed(limit, remaining + size)
        # Not a whole slice left: this operation alone, what was held given back.
        exact = await self.shared.debit(key, cost - held, limit)
        if not exact.allowed and held:
            await self.shared.debit(key, -held, limit)  # refused: give back what was held anyway
            exact = dataclasses.replace(exact, remaining=exact.remaining + held)
        self._note(key, exact)
        return exact

    async def _exact(self, key: str, cost: int, limit: int) -> Debit:
        debit = await self.shared.debit(key, cost, limit)
        self._note(key, debit)
        return debit

    def _take(self, key: str, units: int, limit: int) -> asyncio.Future[tuple[bool, int] | None]:
        """Takes `units` from the caller's bucket if it holds them all: whether it did and what
        the bucket holds after (None: Redis unreachable, nothing taken). The takes asked in one
        turn of the event loop (callers arriving together, as their batched key lookups return;
        the slices due for a top-up) go to Redis in one script call."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bool, int] | None] = loop.create_future()
        self._takes.append((key, units, limit, future))
        if len(self._takes) == 1:
            task = loop.create_task(self._send_takes(), name="budget slices")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return future

    async def _send_takes(self) -> None:
        batch, self._takes = self._takes, []
        try:
            for start in range(0, len(batch), self.TOP_UP_BATCH):
                part = batch[start : start + self.TOP_UP_BATCH]
                results: list[tuple[bool, int] | None]
                try:
                    results = list(await self.shared.take_each([take[:3] for take in part]))
                except Exception as error:
                    log.warning(
                        "cost budget store unavailable (%s); not debited", type(error).__name__
                    )
                    results = [None] * len(part)
                for (*_, future), result in zip(part, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            for *_, future in batch:
                if not future.done():
                    future.cancel()

    def _note(self, key: str, debit: Debit) -> None:
        """Remember a refusal (what the bucket held, at most); forget it once allowed."""
        if debit.allowed:
            self._empty.pop(key, None)
            return
        self._empty[key] = _Empty(debit.remaining + 1, time.monotonic(), debit.limit)
        if len(self._empty) > self.max_keys:
            del self._empty[next(iter(self._empty))]

    def _known_refusal(self, empty: _Empty, cost: int, limit: int) -> Debit | None:
        """The refusal of `cost` while the bucket found `empty` cannot have refilled enough
        for it; None when it may have (ask the shared bucket)."""
        rate = limit / self.window
        held = min(float(limit), empty.tokens + (time.monotonic() - empty.at) * rate)
        if empty.limit != limit or cost <= held:
            return None
        return Debit(
            False, limit, int(held), (cost - held) / rate, (limit - held) / rate, self.window
        )

    def _allowed(self, limit: int, remaining: int) -> Debit:
        # At most the quota: with Redis unreachable the shared budget lets everything through
        # undebited (reporting the whole quota left), and the slice was never taken from it.
        remaining = min(remaining, limit)
        rate = limit / self.window
        return Debit(True, limit, remaining, 0.0, max(0, limit - remaining) / rate, self.window)

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._topping_up is not None:
            self._topping_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._topping_up
            self._topping_up = None
        self._leases.clear()
        self._empty.clear()
        self._due.clear()
        await self.shared.close()


def open_budget(url: str, *, prefix: str = "nexus:budget:") -> Budget:
    """The budget store for `REDIS_URL`: Redis (slices leased per caller, `LeasedBudget`), or
    this process for `memory://`."""
    if url.startswith("memory://"):
        return InProcessBudget()
    return LeasedBudget(RedisBudget(url, prefix=prefix))
