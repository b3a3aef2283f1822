"""The entity and response cache, as a transport around the real one.

An `_entities` fetch is looked up per representation (key: subgraph, the fetch's selection and
variables, the entity's key, and the caller for a private entry): only the misses go to the
subgraph, in one call, and the answer is put back in representation order with its errors'
`_entities` indexes moved to match. A root fetch (a query) is looked up whole. Answers with
errors are never cached, mutations and subscriptions never looked up.

With a bus, a `market.<SYMBOL>` event (a new tick or candle) drops every entry tagged with the
symbol: entities whose key holds it, root fetches whose arguments do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    parse,
    visit,
)

from graph.cache.policy import CachePolicy, Hint
from graph.cache.store import EntityStore, Entry
from graph.edge.context import current_caller
from graph.executor.transport import SubgraphResponse, Transport
from nexus.metrics import ENTITY_CACHE, ENTITY_CACHE_HIT_RATIO

log = logging.getLogger("graph.cache")

# True while a mutation's plan runs: its reads must see what the mutation just wrote.
_FRESH_READS: ContextVar[bool] = ContextVar("nexus_fresh_reads", default=False)

MAX_TAGS = 8  # per entry: an entity key or a root fetch's arguments rarely hold more strings
INVALIDATING_CHANNELS = "market.*"


@contextmanager
def fresh_reads() -> Iterator[None]:
    """Fetches inside the block bypass the cache (a mutation's plan: entity fields fetched
    after a write must not come from before it)."""
    token = _FRESH_READS.set(True)
    try:
        yield
    finally:
        _FRESH_READS.reset(token)


class _RootFetch:
    """What the policy needs of a root fetch's document: its kind, root fields and strings."""

    __slots__ = ("fields", "kind", "strings")

    def __init__(self, query: str) -> None:
        self.kind = "query"
        self.fields: tuple[str, ...] = ()
        self.strings: tuple[str, ...] = ()
        try:
            document = parse(query, no_location=True)
        except GraphQLError:
            self.kind = "unknown"
            return
        operation = next(
            (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
        )
        if operation is None:
            self.kind = "unknown"
            return
        self.kind = operation.operation.value
        self.fields = tuple(
            s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
        )
        strings: list[str] = []

        class _Strings(Visitor):
            def enter_string_value(self, node: StringValueNode, *_: object) -> None:
                strings.append(node.value)

        visit(operation, _Strings())
        self.strings = tuple(strings)


class CachingTransport:
    def __init__(
        self,
        inner: Transport,
        store: EntityStore,
        policy: CachePolicy,
        *,
        root_type: str = "Query",
        bus: Any = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.policy = policy
        self.root_type = root_type
        self.bus = bus
        self.hits = 0
        self.lookups = 0
        self._documents: OrderedDict[str, _RootFetch] = OrderedDict()
        self._invalidation: asyncio.Task[None] | None = None

    def __getattr__(self, name: str) -> Any:  # what else the inner transport offers (urls, ...)
        return getattr(self.inner, name)

    async def fetch(
        self, service: str, query: str, variables: dict[str, Any] | None
    ) -> SubgraphResponse:
        self._start_invalidation()
        if _FRESH_READS.get():
            return await self.inner.fetch(service, query, variables)
        if variables and "representations" in variables:
            return await self._entities(service, query, variables)
        document = self._document(query)
        if document.kind != "query":
            return await self.inner.fetch(service, query, variables)
        hint = self.policy.for_root(service, self.root_type, document.fields)
        if hint.max_age <= 0:
            return await self.inner.fetch(service, query, variables)
        key = f"r:{service}:{_digest(query, variables)}{_scope(hint)}"
        [cached] = await self._lookup(service, [key])
        if cached is not None:
            return {"data": orjson.loads(cached)}
        response = await self.inner.fetch(service, query, variables)
        data = response.get("data")
        if isinstance(data, dict) and not response.get("errors"):
            tags = _tags([*document.strings, *_strings(variables)])
            await self._put([Entry(key, orjson.dumps(data), hint.max_age, tags)])
        return response

    async def _entities(
        self, service: str, query: str, variables: dict[str, Any]
    ) -> SubgraphResponse:
        representations: list[Any] = variables["representations"]
        others = {k: v for k, v in variables.items() if k != "representations"}
        selection = _digest(query, others)
        hints = [self.policy.for_entity(service, str(r.get("__typename"))) for r in representations]
        keys = [
            f"e:{service}:{selection}:{_identity(rep)}{_scope(hint)}" if hint.max_age > 0 else None
            for rep, hint in zip(representations, hints, strict=True)
        ]
        looked_up = [k for k in keys if k is not None]
        found = dict(zip(looked_up, await self._lookup(service, looked_up), strict=True))
        entities: list[Any] = [None] * len(representations)
        missing: list[int] = []
        for index, key in enumerate(keys):
            cached = found.get(key) if key is not None else None
            if cached is None:
                missing.append(index)
            else:
                entities[index] = orjson.loads(cached)
        if not missing:
            return {"data": {"_entities": entities}}
        response = await self.inner.fetch(
            service, query, {**others, "representations": [representations[i] for i in missing]}
        )
        data = response.get("data")
        fetched = data.get("_entities") if isinstance(data, dict) else None
        if not isinstance(fetched, list) or len(fetched) != len(missing):
            return response  # malformed: the executor reports it as it would uncached
        failed = _failed_indexes(response)
        entries: list[Entry] = []
        for position, (index, entity) in enumerate(zip(missing, fetched, strict=True)):
            entities[index] = entity
            key = keys[index]
            if key is not None and isinstance(entity, dict) and position not in failed:
                tags = _tags(_strings(representations[index]))
                entries.append(Entry(key, orjson.dumps(entity), hints[index].max_age, tags))
        await self._put(entries)
        answer: SubgraphResponse = {"data": {"_entities": entities}}
        if response.get("errors"):
            answer["errors"] = [_reindexed(e, missing) for e in response["errors"]]
        return answer

    async def _lookup(self, service: str, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            found = await self.store.get_many(keys)
        except Exception:  # a cache that is down is a cache that misses
            log.warning("entity cache lookup failed", exc_info=True)
            found = [None] * len(keys)
        hits = sum(1 for value in found if value is not None)
        self.hits += hits
        self.lookups += len(keys)
        if hits:
            ENTITY_CACHE.labels(service, "hit").inc(hits)
        if len(keys) > hits:
            ENTITY_CACHE.labels(service, "miss").inc(len(keys) - hits)
        ENTITY_CACHE_HIT_RATIO.set(self.hits / self.lookups)
        return found

    async def _put(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        try:
            await self.store.put_many(entries)
        except Exception:
            log.warning("entity cache write failed", exc_info=True)

    def _document(self, query: str) -> _RootFetch:
        document = self._documents.get(query)
        if document is None:
            document = self._documents[query] = _RootFetch(query)
            if len(self._documents) > 4096:
                self._documents.popitem(last=False)
        return document

    def _start_invalidation(self) -> None:
        if self.bus is not None and self._invalidation is None:
            self._invalidation = asyncio.ensure_future(self._invalidate_from_bus())

    async def _invalidate_from_bus(self) -> None:
        """Drop a symbol's entries on every `market.<SYMBOL>` event."""
        subscription = await self.bus.subscribe(INVALIDATING_CHANNELS)
        try:
            async for message in subscription:
                symbol = message.channel.partition(".")[2]
                if symbol:
                    try:
                        await self.store.invalidate(symbol)
                    except Exception:
                        log.warning("entity cache invalidation failed", exc_info=True)
        finally:
            await subscription.close()

    async def ready(self) -> dict[str, bool]:
        return await self.inner.ready()

    async def close(self) -> None:
        if self._invalidation is not None:
            self._invalidation.cancel()
            with contextlib.suppress(BaseException):
                await self._invalidation
        await self.store.close()
        await self.inner.close()


def _scope(hint: Hint) -> str:
    """A private entry's key names its caller: the same organisation's key or token only."""
    if not hint.private:
        return ""
    caller = current_caller()
    identity = f"{caller.kind}:{caller.rate_key}:{caller.organization_id}"
    return ":" + hashlib.sha1(identity.encode()).hexdigest()[:16]


def _digest(query: str, variables: Any) -> str:
    body = query.encode() + b"\0" + _canonical(variables or {})
    return hashlib.sha1(body).hexdigest()[:20]


def _identity(representation: Any) -> str:
    return hashlib.sha1(_canonical(representation)).hexdigest()[:20]


def _canonical(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, sort_keys=True, default=str).encode()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "__typename":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _tags(strings: Sequence[str] | Iterator[str]) -> tuple[str, ...]:
    unique = dict.fromkeys(s for s in strings if 0 < len(s) <= 64)
    return tuple(unique)[:MAX_TAGS]


def _failed_indexes(response: SubgraphResponse) -> set[int]:
    failed: set[int] = set()
    for error in response.get("errors") or ():
        path = error.get("path") if isinstance(error, dict) else None
        if isinstance(path, list) and len(path) >= 2 and path[0] == "_entities":
            if isinstance(path[1], int):
                failed.add(path[1])
        else:  # an error that names no entity: cache nothing from this answer
            data = response.get("data") or {}
            return set(range(len(data.get("_entities") or ())))
    return failed


def _reindexed(error: Any, missing: list[int]) -> Any:
    """`error` with its `_entities` index moved from the call's list to the caller's."""
    if not isinstance(error, dict):
        return error
    path = error.get("path")
    if isinstance(path, list) and len(path) >= 2 and path[0] == "_entities":
        position = path[1]
        if isinstance(position, int) and 0 <= position < len(missing):
            return {**error, "path": ["_entities", missing[position], *path[2:]]}
    return error
