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
import collections
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from nexus.assembly.ingest.errors import AlreadyRunning
from nexus.assembly.ingest.records import Batch, DeadLetter, Record

log = logging.getLogger("nexus.ingest.stream")

GROUP = "nexus-ingest"
CONSUMER = "ingest"  # one consumer per source at a time (the lease), so one fixed name
READ_AHEAD = 16  # entries one XREADGROUP returns at most (COUNT); pending until acknowledged


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

    async def ack(self, source: str, *entries: str) -> None:
        """The entries are stored and checkpointed: gone from the stream."""
        ...

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

    async def ack(self, source: str, *entries: str) -> None:
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
        # source -> the id after which to read pending entries (a killed run's), until none
        self.backlog: dict[str, str | None] = {}
        # Entries read ahead (XREADGROUP with COUNT): delivered to this consumer, so pending
        # until acknowledged; a process killed with some here reads them again as backlog.
        self.ahead: dict[str, collections.deque[tuple[str, Batch]]] = {}
        # Entries this process added and has not read back: the producer runs in the consumer's
        # process, so the batch it reads back is taken from here instead of decoded again
        # (JSON to records: 0.1-0.2 s of a 70,000-row FRED run). What the stream holds is the
        # same: a killed run's entries, read by the next process, are decoded from Redis.
        self.added: dict[str, Batch] = {}

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
        self.backlog[source] = "0"  # first: entries delivered to a run that died before acking
        self.ahead[source] = collections.deque()

    async def add(self, source: str, batch: Batch) -> None:
        # orjson: a page of 100,000 observations is megabytes of JSON each way.
        entry_id = await self.client.xadd(self.key(source), {"batch": _encoded(batch)})
        self.added[entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)] = batch

    async def read(self, source: str, wait_seconds: float) -> tuple[str, Batch] | None:
        ahead = self.ahead.setdefault(source, collections.deque())
        if ahead:
            return ahead.popleft()
        while not ahead and (after := self.backlog.get(source)) is not None:
            await self._read(source, after, None)
        if not ahead:
            block = None if wait_seconds <= 0 else max(1, int(wait_seconds * 1000))
            await self._read(source, ">", block)
        return ahead.popleft() if ahead else None

    async def _read(self, source: str, start: str, block: int | None) -> None:
        """Up to READ_AHEAD entries in one XREADGROUP, queued on `ahead`. Reading the backlog
        (`start` an id: pending entries after it), moves it on, or ends it when none is left."""
        answer: Any = await self.client.xreadgroup(
            GROUP, CONSUMER, {self.key(source): start}, count=READ_AHEAD, block=block
        )
        last = None
        for entry_id, fields in answer[0][1] if answer else []:
            last = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            mine = self.added.pop(last, None)
            raw = fields.get(b"batch") or fields.get("batch") if fields else None
            if raw is not None:  # None: a pending entry deleted meanwhile (no fields)
                self.ahead[source].append((last, mine or _decoded(raw)))
        if start != ">":
            self.backlog[source] = last  # pending ids only grow: read on after the last one

    async def ack(self, source: str, *entries: str) -> None:
        if not entries:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.key(source), GROUP, *entries)
            pipe.xdel(self.key(source), *entries)  # stored: the stream keeps only what is not
            await pipe.execute()

    async def close(self) -> None:
        self.added.clear()
        await self.client.aclose()


def _encoded(batch: Batch) -> bytes:
    """A batch as a stream entry: its records as [source, kind, key, payload] arrays (no
    object with the same four names per record)."""
    return orjson.dumps(
        {
            "rows": [(r.source, r.kind, r.key, r.payload) for r in batch.records],
            "cursor": batch.cursor,
            "failures": [failure.to_json() for failure in batch.failures],
        }
    )


def _decoded(raw: bytes | str) -> Batch:
    """A stream entry as a batch: the arrays `_encoded` writes, or `Batch.to_json`'s objects
    (entries an earlier version left on the stream)."""
    value = orjson.loads(raw)
    if "rows" not in value:
        return Batch.from_json(value)
    return Batch(
        [Record(*row) for row in value["rows"]],
        value["cursor"],
        [DeadLetter.from_json(item) for item in value.get("failures", [])],
    )


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
