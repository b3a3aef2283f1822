"""The plan's cap on a caller's concurrent subscriptions, shared by every router process.

Each open subscription holds a lease: one member of a per-caller sorted set in Redis whose score
is the lease's expiry, so two routers on one Redis count the same subscriptions. A router renews
its live leases every third of the lease time and drops those whose stream ended or whose
listener left (nothing needs to report a subscription's end); if a router dies, its leases
expire on their own after `NEXUS_SUBSCRIPTION_LEASE_SECONDS`. The embedded default
(`REDIS_URL=memory://`) keeps the leases in this process with the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from graph.edge.authn import budget_key
from nexus.auth.caller import Caller
from nexus.stores.redis_client import pooled_client

if TYPE_CHECKING:
    from graph.subscriptions.hub import Listener, SharedStream

log = logging.getLogger("graph.edge")

LEASE_SECONDS = 30.0


class LeaseStore(Protocol):
    async def acquire(self, key: str, lease: str, limit: int) -> bool: ...

    async def renew(self, key: str, leases: list[str]) -> None: ...

    async def release(self, key: str, lease: str) -> None: ...

    async def close(self) -> None: ...


class InProcessLeases:
    """Leases in this process (the embedded default): caller key -> {lease: expiry}."""

    def __init__(self, lease_seconds: float = LEASE_SECONDS) -> None:
        self.lease_seconds = lease_seconds
        self._leases: dict[str, dict[str, float]] = {}

    def _live(self, key: str) -> dict[str, float]:
        now = time.monotonic()
        leases = {k: v for k, v in self._leases.get(key, {}).items() if v > now}
        if leases:
            self._leases[key] = leases
        else:
            self._leases.pop(key, None)
        return leases

    async def acquire(self, key: str, lease: str, limit: int) -> bool:
        leases = self._live(key)
        if len(leases) >= limit:
            return False
        self._leases[key] = {**leases, lease: time.monotonic() + self.lease_seconds}
        return True

    async def renew(self, key: str, leases: list[str]) -> None:
        expiry = time.monotonic() + self.lease_seconds
        self._leases.setdefault(key, {}).update(dict.fromkeys(leases, expiry))

    async def release(self, key: str, lease: str) -> None:
        self._leases.get(key, {}).pop(lease, None)

    async def close(self) -> None:
        self._leases.clear()


# KEYS[1]: the caller's leases; ARGV: limit, lease id, lease time (ms). On Redis's own clock, so
# router hosts need no synchronised clocks. Returns 1 when the lease was granted.
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
# KEYS[1]: the caller's leases; ARGV[1]: lease time (ms); ARGV[2..]: the lease ids to extend.
_RENEW = """
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return #ARGV - 1
"""


class RedisLeases:
    """Leases in Redis under `prefix`. When Redis cannot be reached a subscription is let
    through (logged), as the cost budget does: the cap protects the service, an outage of its
    store must not take subscriptions down with it."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "nexus:subscriptions:",
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.client: Any = pooled_client(url)
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self._acquire = self.client.register_script(_ACQUIRE)
        self._renew = self.client.register_script(_RENEW)

    @property
    def _lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)

    async def acquire(self, key: str, lease: str, limit: int) -> bool:
        try:
            granted = await self._acquire(
                keys=[self.prefix + key], args=[limit, lease, self._lease_ms]
            )
        except Exception as error:
            log.warning("subscription lease store unavailable (%s)", type(error).__name__)
            return True
        return bool(granted)

    async def renew(self, key: str, leases: list[str]) -> None:
        await self._renew(keys=[self.prefix + key], args=[self._lease_ms, *leases])

    async def release(self, key: str, lease: str) -> None:
        await self.client.zrem(self.prefix + key, lease)

    async def close(self) -> None:
        await self.client.aclose()


def open_leases(url: str, *, lease_seconds: float = LEASE_SECONDS) -> LeaseStore:
    """The lease store for `REDIS_URL`: Redis, or this process for `memory://`."""
    if url.startswith("memory://"):
        return InProcessLeases(lease_seconds)
    return RedisLeases(url, lease_seconds=lease_seconds)


@dataclass(slots=True)
class Lease:
    key: str  # the caller's budget key
    id: str
    stream: tuple[SharedStream, Listener] | None = None  # set once the subscription is open

    @property
    def live(self) -> bool:
        if self.stream is None:
            return True  # being opened
        shared, listener = self.stream
        return listener in shared.listeners and not shared.task.done()


class SubscriptionQuota:
    """Admits a caller's subscription while it holds fewer than its plan allows."""

    def __init__(self, store: LeaseStore | None = None) -> None:
        self.store = store or InProcessLeases()
        self._leases: dict[str, Lease] = {}  # this router's leases, by id
        self._renewer: asyncio.Task[None] | None = None

    async def admit(self, caller: Caller) -> Lease | dict[str, Any]:
        """A lease for one more subscription of `caller`, or the error response to send."""
        key = budget_key(caller)
        await self._drop_ended(key)
        lease = Lease(key, uuid.uuid4().hex)
        limit = caller.plan.max_subscriptions
        if not await self.store.acquire(key, lease.id, limit):
            message = (
                f"The {caller.plan.name} plan allows {limit} concurrent subscriptions per "
                "caller; complete one before starting another."
            )
            return {"errors": [{"message": message, "extensions": {"code": "RATE_LIMITED"}}]}
        self._leases[lease.id] = lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(
                self._renew_forever(), name="subscription-leases"
            )
        return lease

    def opened(self, lease: Lease, shared: SharedStream, listener: Listener) -> None:
        lease.stream = (shared, listener)

    async def release(self, lease: Lease) -> None:
        """Give back a lease whose subscription did not open."""
        self._leases.pop(lease.id, None)
        with contextlib.suppress(Exception):
            await self.store.release(lease.key, lease.id)

    def count(self, caller: Caller) -> int:
        """Live subscriptions of `caller` on this router."""
        key = budget_key(caller)
        return sum(1 for lease in self._leases.values() if lease.key == key and lease.live)

    async def _drop_ended(self, key: str | None = None) -> None:
        for lease in [lease for lease in self._leases.values() if not lease.live]:
            if key is None or lease.key == key:
                await self.release(lease)

    async def renew(self) -> None:
        """Release ended subscriptions' leases and extend the others'."""
        await self._drop_ended()
        by_key: dict[str, list[str]] = {}
        for lease in self._leases.values():
            by_key.setdefault(lease.key, []).append(lease.id)
        for key, ids in by_key.items():
            await self.store.renew(key, ids)

    async def _renew_forever(self) -> None:
        interval = getattr(self.store, "lease_seconds", LEASE_SECONDS) / 3
        while self._leases:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except Exception as error:  # the store is down: try again next time
                log.warning("could not renew subscription leases (%s)", type(error).__name__)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        for lease in list(self._leases.values()):
            await self.release(lease)
        await self.store.close()
