"""Load the demo dataset into the stores, domain by domain, with a progress display.

Every domain loader is idempotent (ReplacingMergeTree tables merged after the load, upserts by
primary key), so `nexus load-demo` can be run any number of times. `serve` loads a domain on first
start only: when its store has no rows yet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TextIO

from nexus.stores import Stores

Loader = Callable[[Stores], Awaitable[dict[str, int]]]


async def _macro(stores: Stores) -> dict[str, int]:
    from subgraphs.macro.demo import load_demo

    return await load_demo(stores.require_analytics())


async def _crypto(stores: Stores) -> dict[str, int]:
    from subgraphs.crypto.demo import load_demo

    return await load_demo(stores.require_analytics())


async def _crypto_schema(stores: Stores) -> None:
    from subgraphs.crypto.demo import ensure_schema

    await ensure_schema(stores.require_analytics())


async def _micro(stores: Stores) -> dict[str, int]:
    from subgraphs.micro.demo import load_demo

    return await load_demo(
        stores.require_analytics(), stores.require_vectors(),
        cache_dir=stores.settings.data_dir / "text-cache",
    )


async def _platform(stores: Stores) -> dict[str, int]:
    from subgraphs.platform.demo import load_demo

    return await load_demo(stores.require_platform())


LOADERS: dict[str, Loader] = {
    "macro": _macro,
    "crypto": _crypto,
    "micro": _micro,
    "platform": _platform,
}

# Run on a domain already loaded: tables a later version added (CREATE ... IF NOT EXISTS).
SCHEMAS: dict[str, Callable[[Stores], Awaitable[None]]] = {"crypto": _crypto_schema}

# A domain counts as loaded when this table has rows.
PROBES = {"macro": "macro.series", "crypto": "crypto.tokens", "micro": "micro.stocks"}


async def is_loaded(stores: Stores, domain: str) -> bool:
    if domain == "platform":
        from subgraphs.platform.demo import is_loaded as platform_loaded

        return await platform_loaded(stores.require_platform())
    database, table = PROBES[domain].split(".")
    rows = await stores.require_analytics().query(
        "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        {"db": database, "t": table},
    )
    if not rows or rows[0]["n"] == 0:
        return False
    counted = await stores.require_analytics().query(f"SELECT count() AS n FROM {database}.{table}")
    return bool(counted and counted[0]["n"] > 0)


async def load_demo(
    stores: Stores, domains: Iterable[str], *, only_missing: bool = False, out: TextIO = sys.stderr
) -> dict[str, int]:
    """Load `domains` in order, printing one progress line per domain; returns rows per table."""
    wanted = [domain for domain in domains if domain in LOADERS]
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for step, domain in enumerate(wanted, start=1):
        prefix = f"[{step}/{len(wanted)}] {domain:<8}"
        if only_missing and await is_loaded(stores, domain):
            if domain in SCHEMAS:
                await SCHEMAS[domain](stores)
            print(f"{prefix} already loaded", file=out, flush=True)
            continue
        print(f"{prefix} loading demo data...", end="", file=out, flush=True)
        began = time.perf_counter()
        loaded = await LOADERS[domain](stores)
        counts.update(loaded)
        summary = ", ".join(f"{table} {rows:,}" for table, rows in loaded.items())
        print(f" done in {time.perf_counter() - began:.1f}s ({summary})", file=out, flush=True)
    print(f"demo data ready in {time.perf_counter() - started:.1f}s", file=out, flush=True)
    return counts
