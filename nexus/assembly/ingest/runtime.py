"""A Pipeline opened from the settings: the analytics store, the bus, the stream and the
dead-letter store that REDIS_URL and ANALYTICS_URL select."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping

from nexus.assembly.ingest.checkpoints import (
    AnalyticsDeadLetters,
    DeadLetterStore,
    RedisDeadLetters,
)
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.stream import open_stream
from nexus.assembly.registry import open_stores
from nexus.config import Settings


def open_pipeline(
    settings: Settings, domain: str = "macro", env: Mapping[str, str] | None = None
) -> tuple[Pipeline, Callable[[], Awaitable[None]]]:
    """The pipeline and the coroutine function that closes what it opened."""
    env = dict(os.environ if env is None else env)
    stores = open_stores(settings, [domain])
    prefix = env.get("NEXUS_INGEST_REDIS_PREFIX", "nexus:")
    stream = open_stream(settings.redis_url, prefix=prefix)
    dead: DeadLetterStore
    if settings.redis_url.startswith("memory://"):
        dead = AnalyticsDeadLetters(stores.require_analytics())
    else:
        dead = RedisDeadLetters(settings.redis_url, prefix=prefix)
    pipeline = Pipeline(
        analytics=stores.require_analytics(),
        bus=stores.require_bus(),
        stream=stream,
        dead=dead,
        env=env,
        vectors=stores.vectors,  # opened for the micro domain (posts are embedded)
    )

    async def close() -> None:
        await stream.close()
        if isinstance(dead, RedisDeadLetters):
            await dead.close()
        await stores.close()

    return pipeline, close
