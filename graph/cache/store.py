"""Where cached subgraph answers live: an in-process LRU (the embedded default) or Redis.

Every entry carries tags (the string values of its entity key or of its root fetch's
arguments: a token's symbol); `invalidate(tag)` drops every entry so tagged, wherever it was
cached, which is how a new candle on `market.BTC` reaches BTC's cached fields.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nexus.stores.redis_client import pooled_client

KEY_PREFIX = "nexus:entity:"


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    value: bytes
    max_age: int  # seconds
    tags: tuple[str, ...]


class EntityStore(Protocol):
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def put_many(self, entries: Sequence[Entry]) -> None: ...

    async def invalidate(self, tag: str) -> int:
        """Drop every entry tagged `tag`; returns how many were dropped."""
        ...

    async def close(self) -> None: ...


class MemoryEntityStore:
    """At most `max_entries` entries, the least recently used dropped first."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes, tuple[str, ...]]] = OrderedDict()
        self._tagged: dict[str, set[str]] = {}

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        found: list[bytes | None] = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= now:
                if entry is not None:
                    self._drop(key)
                found.append(None)
                continue
            self._entries.move_to_end(key)
            found.append(entry[1])
        return found

    async def put_many(self, entries: Sequence[Entry]) -> None:
        now = time.monotonic()
        for entry in entries:
            if entry.key in self._entries:
                self._drop(entry.key)
            self._entries[entry.key] = (now + entry.max_age, entry.value, entry.tags)
            for tag in entry.tags:
                self._tagged.setdefault(tag, set()).add(entry.key)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    async def invalidate(self, tag: str) -> int:
        keys = self._tagged.pop(tag, set())
        for key in keys:
            self._drop(key)
        return len(keys)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[2]:
            tagged = self._tagged.get(tag)
            if tagged is not None:
                tagged.discard(key)
                if not tagged:
                    del self._tagged[tag]

    async def close(self) -> None:
        self._entries.clear()
        self._tagged.clear()


class RedisEntityStore:
    """Entries as Redis strings with a TTL; a set per tag names the entries to drop. Shared by
    every router process, so one invalidation reaches all of them."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX) -> None:
        self.prefix = prefix
        self.client: Any = pooled_client(url)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = await self.client.mget([self.prefix + key for key in keys])
        return list(values)

    async def put_many(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.set(self.prefix + entry.key, entry.value, ex=max(1, entry.max_age))
                for tag in entry.tags:
                    tag_key = f"{self.prefix}tag:{tag}"
                    pipe.sadd(tag_key, entry.key)
                    # The tag set lives as long as its longest entry could.
                    pipe.expire(tag_key, max(1, entry.max_age), gt=True)
                    pipe.expire(tag_key, max(1, entry.max_age), nx=True)
            await pipe.execute()

    async def invalidate(self, tag: str) -> int:
        tag_key = f"{self.prefix}tag:{tag}"
        keys = await self.client.smembers(tag_key)
        if keys:
            await self.client.delete(*(self.prefix + k.decode() for k in keys), tag_key)
        return len(keys)

    async def close(self) -> None:
        await self.client.aclose()
