"""Time loading the demo dataset into fresh embedded stores (chDB, Milvus Lite, SQLite).

    python benchmarks/demo_load.py

Prints seconds and rows per domain, then a second (idempotent) load for comparison.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

from nexus.config import Settings
from nexus.demo.load import LOADERS, load_demo
from nexus.runtime import open_stores
from nexus.stores.platform import upgrade


async def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"NEXUS_DATA_DIR": data_dir})
        domains = list(LOADERS)
        await upgrade(settings.database_url)
        stores = open_stores(settings, domains)
        print(f"{'load':<8} {'domain':<9} {'seconds':>8}  rows")
        try:
            for attempt in ("first", "second"):
                total = 0.0
                for domain in domains:
                    began = time.perf_counter()
                    counts = await load_demo(stores, [domain], out=io.StringIO())
                    seconds = time.perf_counter() - began
                    total += seconds
                    rows = ", ".join(f"{table}={n:,}" for table, n in counts.items())
                    print(f"{attempt:<8} {domain:<9} {seconds:8.2f}  {rows}")
                print(f"{attempt:<8} {'total':<9} {total:8.2f}")
        finally:
            await stores.close()
    print(f"python {sys.version.split()[0]}, data dir on {Path(data_dir).anchor}")


if __name__ == "__main__":
    asyncio.run(main())
