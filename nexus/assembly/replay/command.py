"""`nexus replay`: the replay feed as its own process, publishing to the configured Redis.

For a deployment whose subgraphs run as separate processes (each with NEXUS_REPLAY=off): one
`nexus replay` reads the history from ANALYTICS_URL and publishes to REDIS_URL, and every
subgraph and router process subscribed there sees the same stream. It runs until SIGTERM or
Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from nexus.assembly.replay import ReplayError, ReplaySettings, start_replay
from nexus.config import Settings
from nexus.stores import Stores


def run_replay(settings: Settings) -> int:
    """The `nexus replay` command; its exit status."""
    if settings.redis_url.startswith("memory://"):
        print(
            "nexus replay publishes to a shared bus, but REDIS_URL is memory:// (this process "
            "only): set REDIS_URL=redis://HOST:6379/0. `nexus serve` runs the replay itself.",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_replay(settings))
    return 0


async def _replay(settings: Settings) -> int:
    from nexus.stores.analytics import open_analytics
    from nexus.stores.bus import open_bus

    stores = Stores(
        settings=settings,
        analytics=open_analytics(settings.analytics_url),
        bus=open_bus(settings.redis_url),
    )
    try:
        replay = await start_replay(stores, ReplaySettings.from_settings(settings))
    except ReplayError as error:
        print(f"nexus replay: {error}", file=sys.stderr)
        await stores.close()
        return 2
    stopped = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()  # until SIGTERM, or Ctrl-C (which cancels this)
    finally:
        await replay.stop()
        await stores.close()
    return 0
