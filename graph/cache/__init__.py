"""The router's entity and response cache: policy, stores, and the caching transport."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import parse

from graph.cache.policy import CacheConfigError, CachePolicy, Hint
from graph.cache.store import EntityStore, Entry, MemoryEntityStore, RedisEntityStore
from graph.cache.transport import CachingTransport
from graph.executor.transport import Transport
from graph.supergraph import Supergraph

__all__ = [
    "CacheConfigError",
    "CachePolicy",
    "CachingTransport",
    "EntityStore",
    "Entry",
    "Hint",
    "MemoryEntityStore",
    "RedisEntityStore",
    "with_entity_cache",
]


def with_entity_cache(
    transport: Transport,
    supergraph: Supergraph,
    *,
    redis_url: str,
    bus: Any = None,
    env: Mapping[str, str] | None = None,
) -> Transport:
    """`transport` behind the entity cache when `NEXUS_ENTITY_CACHE=on` (else unchanged): in
    Redis when `redis_url` names one, else in-process; `bus` events invalidate entries."""
    policy = CachePolicy.from_env(env, parse(supergraph.sdl))
    if not policy.enabled:
        return transport
    store: EntityStore
    if redis_url.startswith(("redis://", "rediss://", "unix://")):
        store = RedisEntityStore(redis_url)
    else:
        store = MemoryEntityStore(policy.max_entries)
    root = supergraph.root_types.get("query", "Query")
    return CachingTransport(transport, store, policy, root_type=root, bus=bus)
