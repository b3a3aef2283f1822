"""The edge's API-key lookups, batched: first uses of keys that arrive together are read in one
query (`key_digest IN (...)`), not one session and query each.

A router that starts (or meets many new keys) answers each key's first use from the platform
store; one at a time, each paid a session, a query and aiosqlite's thread hops. Here a lookup
joins the batch being gathered; the batch is read as soon as the loop is free and the previous
batch's query has returned, so concurrent first uses share a read, and a lone one waits for
nothing. Every key's row is still read after its lookup was asked for (a revocation committed
before that is seen), and each digest gets its own row's answer, never another key's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from sqlalchemy import select

from nexus.auth import Caller, PlanLimits
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform.models import ApiKey, Organization, Plan, utc_now

MAX_BATCH = 500  # digests per query (well under SQLite's bound-parameter limit)

_COLUMNS = (
    ApiKey.key_digest,
    ApiKey.id,
    ApiKey.organization_id,
    ApiKey.created_by,
    ApiKey.scopes,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.trusted_documents_only,
    Plan.name,
    Plan.cost_per_minute,
    Plan.max_operation_cost,
    Plan.max_subscriptions,
    Plan.scopes,
)


class ApiKeyLookups:
    """Live keys' callers by digest, read in batches from the platform store."""

    def __init__(self, store: PlatformStore) -> None:
        self._store = store
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the state below is of
        self._gathering: dict[str, asyncio.Future[Caller | None]] | None = None
        self._reading = asyncio.Lock()  # one batch's query at a time
        self._readers: set[asyncio.Task[None]] = set()  # held until done (the loop holds weakly)

    async def caller_for(self, key_digest: str) -> Caller | None:
        """The caller of the live (unrevoked, unexpired) key with this digest, else None."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing of the old one is kept
            self._loop, self._gathering, self._reading = loop, None, asyncio.Lock()
        batch = self._gathering
        if batch is None or len(batch) >= MAX_BATCH:
            batch = self._gathering = {}
            # The task starts on a later turn of the loop: lookups made meanwhile join.
            reader = loop.create_task(self._read(batch), name="key-lookup")
            self._readers.add(reader)
            reader.add_done_callback(self._readers.discard)
        future = batch.get(key_digest)
        if future is None:
            future = batch[key_digest] = loop.create_future()
        # Shielded: one request giving up must not cancel the answer others wait for.
        return await asyncio.shield(future)

    async def _read(self, batch: dict[str, asyncio.Future[Caller | None]]) -> None:
        try:
            async with self._reading:
                self._close(batch)
                callers = await self._callers(batch)
        except BaseException as error:
            self._close(batch)
            for future in batch.values():
                if future.done():
                    continue
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for key_digest, future in batch.items():
            if not future.done():
                future.set_result(callers.get(key_digest))

    def _close(self, batch: dict[str, asyncio.Future[Caller | None]]) -> None:
        """Lookups from now on gather the next batch."""
        if self._gathering is batch:
            self._gathering = None

    async def _callers(self, digests: Iterable[str]) -> Mapping[str, Caller]:
        query = (
            select(*_COLUMNS)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .join(Plan, Plan.name == Organization.plan)
            .where(ApiKey.key_digest.in_(list(digests)))
        )
        now = utc_now()
        async with available(), self._store.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        callers: dict[str, Caller] = {}
        for row in rows:
            (key_digest, key_id, organization_id, created_by, scopes, expires_at, revoked_at,
             restricted, *plan) = row  # fmt: skip
            if revoked_at is not None or (expires_at is not None and expires_at <= now):
                continue
            limits = PlanLimits(plan[0], plan[1], plan[2], plan[3], frozenset(plan[4].split()))
            callers[key_digest] = Caller(
                kind="api_key",
                user_id=created_by,  # a key acts for the member who made it
                organization_id=organization_id,
                scopes=frozenset(scopes.split()) & limits.scopes,
                plan=limits,
                api_key_id=key_id,
                expires_at=None if expires_at is None else expires_at.timestamp(),
                trusted_documents_only=bool(restricted),
            )
        return callers
