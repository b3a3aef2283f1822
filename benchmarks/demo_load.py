"""Time loading the demo dataset into fresh embedded stores (chDB, Milvus Lite, SQLite).

    .venv/bin/python -m benchmarks.demo_load [--domain micro] [--text-cache DIR]

Prints seconds and rows per domain, then a second (idempotent) load for comparison.
`--text-cache DIR` keeps the posts' text analyses in DIR (the app keeps them in
`$NEXUS_DATA_DIR/text-cache`): run twice to time a fresh process whose wordings are cached.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

from nexus.assembly.demo import LOADERS, load_demo
from nexus.assembly.registry import open_stores
from nexus.config import Settings
from nexus.stores.platform import upgrade


def _link_text_cache(data_dir: Path, text_cache: Path) -> None:
    text_cache.mkdir(parents=True, exist_ok=True)
    (data_dir / "text-cache").symlink_to(text_cache.resolve())


async def main(domains: list[str], text_cache: Path | None) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"NEXUS_DATA_DIR": data_dir})
        if text_cache is not None:
            _link_text_cache(Path(data_dir), text_cache)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", action="append", choices=list(LOADERS))
    parser.add_argument("--text-cache", type=Path)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.domain or list(LOADERS), arguments.text_cache))
