"""Where ingestion keeps its state: each source's cursor, and the dead letters.

Cursors live in the analytics store beside the data they describe (database `ingest`), so a
checkpoint is as durable as the rows it vouches for, on chDB and on a ClickHouse server alike.
Dead letters live in a Redis Stream when REDIS_URL names Redis (`{prefix}ingest:dead`), and in
the analytics store otherwise; both list, replay and remove the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any, Protocol

from nexus.assembly.ingest.records import Cursor, DeadLetter
from nexus.assembly.ingest.schema import ensure
from nexus.stores.analytics import AnalyticsStore

DATABASE = "ingest"


def statements(database: str = DATABASE) -> list[str]:
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        # The highest version is the current cursor: a checkpoint is one insert, never an update.
        f"""CREATE TABLE IF NOT EXISTS {database}.cursors (
        source String,
        cursor String,
        version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY source""",
        f"""CREATE TABLE IF NOT EXISTS {database}.dead_letters (
        id String,
        source LowCardinality(String),
        stage LowCardinality(String),
        reason String,
        letter String,
        at DateTime64(3, 'UTC'),
        removed UInt8,
        version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY id""",
    ]


class CursorStore:
    def __init__(self, store: AnalyticsStore, database: str = DATABASE) -> None:
        self.store = store
        self.database = database

    async def ensure_schema(self) -> None:
        await ensure(self.store, statements(self.database))

    async def load(self, source: str) -> Cursor:
        rows = await self.store.query(
            f"SELECT cursor FROM {self.database}.cursors FINAL WHERE source = {{source:String}}",
            {"source": source},
        )
        if not rows:
            return {}
        cursor: Cursor = json.loads(rows[0]["cursor"])
        return cursor

    async def save(self, source: str, cursor: Cursor) -> None:
        await self.store.insert(
            f"{self.database}.cursors",
            ["source", "cursor", "version"],
            [[source, json.dumps(cursor, sort_keys=True), time.time_ns()]],
        )


class DeadLetterStore(Protocol):
    async def ensure_schema(self) -> None: ...

    async def add(self, letters: list[DeadLetter]) -> None: ...

    async def letters(self, source: str | None = None, limit: int = 100) -> list[DeadLetter]: ...

    async def remove(self, ids: list[str]) -> None: ...


def _stamped(letter: DeadLetter) -> dict[str, Any]:
    value = letter.to_json()
    value["at"] = letter.at or dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    return value


class AnalyticsDeadLetters:
    def __init__(self, store: AnalyticsStore, database: str = DATABASE) -> None:
        self.store = store
        self.database = database

    async def ensure_schema(self) -> None:
        await ensure(self.store, statements(self.database))

    async def add(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        rows = []
        for letter in letters:
            value = _stamped(letter)
            at = dt.datetime.fromisoformat(value["at"]).astimezone(dt.UTC).replace(tzinfo=None)
            rows.append(
                [
                    uuid.uuid4().hex,
                    letter.source,
                    letter.stage,
                    letter.reason,
                    json.dumps(value),
                    at,
                    0,
                    time.time_ns(),
                ]
            )
        await self.store.insert(
            f"{self.database}.dead_letters",
            ["id", "source", "stage", "reason", "letter", "at", "removed", "version"],
            rows,
        )

    async def letters(self, source: str | None = None, limit: int = 100) -> list[DeadLetter]:
        rows = await self.store.query(
            f"SELECT id, letter FROM {self.database}.dead_letters FINAL WHERE removed = 0 "
            "AND ({source:String} = '' OR source = {source:String}) "
            "ORDER BY at, id LIMIT {limit:UInt32}",
            {"source": source or "", "limit": limit},
        )
        return [DeadLetter.from_json(json.loads(row["letter"]), row["id"]) for row in rows]

    async def remove(self, ids: list[str]) -> None:
        if not ids:
            return
        rows = await self.store.query(
            f"SELECT id, source, stage, reason, letter, at FROM {self.database}.dead_letters FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": ids},
        )
        version = time.time_ns()
        await self.store.insert(
            f"{self.database}.dead_letters",
            ["id", "source", "stage", "reason", "letter", "at", "removed", "version"],
            [
                [r["id"], r["source"], r["stage"], r["reason"], r["letter"], r["at"], 1, version]
                for r in rows
            ],
        )


class RedisDeadLetters:
    def __init__(self, url: str, *, prefix: str = "nexus:") -> None:
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=5)
        self.key = f"{prefix}ingest:dead"

    async def ensure_schema(self) -> None:
        return None

    async def add(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            for letter in letters:
                pipe.xadd(self.key, {"letter": json.dumps(_stamped(letter))})
            await pipe.execute()

    async def letters(self, source: str | None = None, limit: int = 100) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        start = "-"
        while len(found) < limit:
            entries: Any = await self.client.xrange(self.key, min=start, count=500)
            if not entries:
                break
            for entry_id, fields in entries:
                letter = DeadLetter.from_json(json.loads(fields[b"letter"]), entry_id.decode())
                if source is None or letter.source == source:
                    found.append(letter)
            start = "(" + entries[-1][0].decode()
        return found[:limit]

    async def remove(self, ids: list[str]) -> None:
        if ids:
            await self.client.xdel(self.key, *ids)

    async def close(self) -> None:
        await self.client.aclose()
