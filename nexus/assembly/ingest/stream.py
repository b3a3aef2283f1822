"""The durable stream between fetching and storing, one per source.

`RedisRecordStream` (REDIS_URL=redis://...) keeps every fetched batch in a Redis Stream read
through a consumer group: an entry is acknowledged (and deleted) only after the sink stored it
and the cursor was checkpointed, so batches a killed process fetched but never stored are still
there, pending, when it restarts, and are stored first. Redis Streams rather than NATS
JetStream: Redis is already the bus and the cache (one server to run, one client library,
redis-py), and a consumer group's pending list plus XACK is exactly the at-least-once hand-off
we need. A lease key makes one process at a time ingest a source, so the pending entries of a
restarted source are its own.

`InProcessRecordStream` (the embedded default) is a bounded queue: nothing survives the
process, and nothing needs to, since the cursor only moves after the sink stored a batch; a
killed run re-fetches from the last checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from nexus.assembly.ingest.errors import AlreadyRunning
from nexus.assembly.ingest.records import Batch

log = logging.getLogger("nexus.ingest.stream")

GROUP = "nexus-ingest"
CONSUMER = "ingest"  # one consumer per source at a time (the lease), so one fixed name


class RecordStream(Protocol):
    def lease(self, source: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the right to ingest `source` (AlreadyRunning if another process holds it)."""
        ...

    async def open(self, source: str) -> None: ...

    async def add(self, source: str, batch: Batch) -> None: ...

    async def read(self, source: str, wait_seconds: float) -> tuple[str, Batch] | None:
        """The next batch not yet acknowledged (the oldest first), or None after waiting
        (`wait_seconds` 0: only one already there)."""
        ...

    async def ack(self, source: str, entry: str) -> None: ...

    async def close(self) -> None: ...


class InProcessRecordStream:
    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[tuple[str, Batch]]] = {}
        self.counter = 0

    @contextlib.asynccontextmanager
    async def lease(self, source: str) -> AsyncIterator[None]:
        yield

    async def open(self, source: str) -> None:
        self.queues.setdefault(source, asyncio.Queue())

    async def add(self, source: str, batch: Batch) -> None:
        self.counter += 1
        await self.queues[source].put((str(self.counter), batch))

    async def read(self, source: str, wait_seconds: float) -> tuple[str, Batch] | None:
        queue = self.queues[source]
        if wait_seconds <= 0 or not queue.empty():
            return None if queue.empty() else queue.get_nowait()
        try:
            return await asyncio.wait_for(queue.get(), wait_seconds)
        except TimeoutError:
            return None

    async def ack(self, source: str, entry: str) -> None:
        return None

    async def close(self) -> None:
        self.queues.clear()


class RedisRecordStream:
    """One Redis Stream per source (`{prefix}ingest:stream:{source}`)."""

    def __init__(self, url: str, *, prefix: str = "nexus:", lease_seconds: float | None = None):
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=5)
        self.prefix = prefix
        self.lease_seconds = lease_seconds or float(
            os.environ.get("NEXUS_INGEST_LEASE_SECONDS", "15")
        )
        self.backlog: dict[str, bool] = {}

    def key(self, source: str) -> str:
        return f"{self.prefix}ingest:stream:{source}"

    @contextlib.asynccontextmanager
    async def lease(self, source: str) -> AsyncIterator[None]:
        key = f"{self.prefix}ingest:lease:{source}"
        token = secrets.token_hex(8)
        ttl_ms = int(self.lease_seconds * 1000)
        # A killed holder's lease lapses after lease_seconds: wait that long for it, not longer.
        deadline = asyncio.get_running_loop().time() + self.lease_seconds + 1
        while not await self.client.set(key, token, nx=True, px=ttl_ms):
            if asyncio.get_running_loop().time() > deadline:
                raise AlreadyRunning(f"another process is ingesting {source}")
            await asyncio.sleep(0.2)
        refresher = asyncio.create_task(self._refresh(key, token, ttl_ms))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            with contextlib.suppress(Exception):
                await self.client.eval(_RELEASE, 1, key, token)

    async def _refresh(self, key: str, token: str, ttl_ms: int) -> None:
        while True:
            await asyncio.sleep(ttl_ms / 3000)
            with contextlib.suppress(Exception):
                await self.client.eval(_REFRESH, 1, key, token, ttl_ms)

    async def open(self, source: str) -> None:
        from redis.exceptions import ResponseError

        try:
            await self.client.xgroup_create(self.key(source), GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self.backlog[source] = True  # first: entries delivered to a run that died before acking

    async def add(self, source: str, batch: Batch) -> None:
        # orjson: a page of 100,000 observations is megabytes of JSON each way.
        await self.client.xadd(self.key(source), {"batch": orjson.dumps(batch.to_json())})

    async def read(self, source: str, wait_seconds: float) -> tuple[str, Batch] | None:
        if self.backlog.get(source):
            entry = await self._read(source, "0", None)
            if entry is not None:
                return entry
            self.backlog[source] = False
        block = None if wait_seconds <= 0 else max(1, int(wait_seconds * 1000))
        return await self._read(source, ">", block)

    async def _read(self, source: str, start: str, block: int | None) -> tuple[str, Batch] | None:
        answer: Any = await self.client.xreadgroup(
            GROUP, CONSUMER, {self.key(source): start}, count=1, block=block
        )
        entries = answer[0][1] if answer else []
        if not entries:
            return None
        entry_id, fields = entries[0]
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        raw = fields.get(b"batch") or fields.get("batch")
        return entry, Batch.from_json(orjson.loads(raw))

    async def ack(self, source: str, entry: str) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.key(source), GROUP, entry)
            pipe.xdel(self.key(source), entry)  # stored: the stream keeps only what is not
            await pipe.execute()

    async def close(self) -> None:
        await self.client.aclose()


_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def open_stream(redis_url: str, *, prefix: str = "nexus:") -> RecordStream:
    """The stream REDIS_URL selects: Redis Streams, or the in-process queue for memory://."""
    if redis_url.startswith("memory://"):
        return InProcessRecordStream()
    return RedisRecordStream(redis_url, prefix=prefix)
