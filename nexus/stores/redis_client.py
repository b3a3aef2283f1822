"""Redis clients for the edge's shared state (budgets, subscription leases, APQ, entity cache).

redis-py's default pool refuses the 101st concurrent command with MaxConnectionsError: a burst
of 200 subscribes then found the cost budget "unavailable" and ran undebited (fail-open is
meant for an outage, not for a burst). A blocking pool queues a burst instead: at most
`NEXUS_REDIS_MAX_CONNECTIONS` connections per process, a command waits up to
`NEXUS_REDIS_POOL_WAIT_SECONDS` for a free one.
"""

from __future__ import annotations

import os
from typing import Any

MAX_CONNECTIONS = 100
POOL_WAIT_SECONDS = 5.0


def pooled_client(url: str) -> Any:
    """An asyncio Redis client for `url` over a bounded, blocking connection pool."""
    import redis.asyncio as redis

    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=int(os.environ.get("NEXUS_REDIS_MAX_CONNECTIONS", MAX_CONNECTIONS)),
        timeout=float(os.environ.get("NEXUS_REDIS_POOL_WAIT_SECONDS", POOL_WAIT_SECONDS)),
        socket_connect_timeout=2,
        socket_timeout=2,
    )
    return redis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes both
