"""Kill `nexus ingest` mid-backfill (SIGKILL, a real process), start it again: every row is
stored once. Embedded (in-process queue: the cursor alone brings the run back) and on Redis
(the killed run's fetched-but-unstored batches wait, pending, on the stream)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from nexus.assembly.ingest.fakes.fred import _vintages
from tests.conftest import REDIS_URL
from tests.support.ingest import API_KEY, faults
from tests.support.live import LiveServer

SERIES = ("DGS2", "GDP")
COUNT = """
import asyncio, json, sys
from pathlib import Path
from nexus.stores.analytics import ChdbStore
async def main():
    store = ChdbStore(Path(sys.argv[1]))
    rows = await store.query(
        "SELECT series_id, count() AS rows, uniqExact(date, realtime_start) AS keys "
        "FROM macro.observation_vintages GROUP BY series_id")
    print(json.dumps({r["series_id"]: [r["rows"], r["keys"]] for r in rows}))
    await store.close()
asyncio.run(main())
"""


def environment(data_dir: Path, fakes: LiveServer, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEXUS_DATA_DIR": str(data_dir),
        "REDIS_URL": redis_url,
        "NEXUS_INGEST_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        "NEXUS_INGEST_LEASE_SECONDS": "1",
        "NEXUS_INGEST_FAKE_URL": fakes.url,
        "FRED_API_KEY": API_KEY,
        "NEXUS_FRED_SERIES": ",".join(SERIES),
        "NEXUS_FRED_PAGE_SIZE": "500",
        "NEXUS_LOG_LEVEL": "DEBUG",
        "ANALYTICS_URL": f"chdb://{data_dir / 'analytics'}",
    }


async def ingest(env: dict[str, str], *, kill_after_batches: int | None = None) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nexus.assembly.cli", "ingest", "fred",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    stored = 0
    async with asyncio.timeout(120):
        async for line in process.stderr:
            if b'"batch stored"' in line:
                stored += 1
                if kill_after_batches is not None and stored >= kill_after_batches:
                    process.kill()  # SIGKILL: no cleanup, no final checkpoint
                    break
        return await process.wait()


async def counts(data_dir: Path) -> dict[str, list[int]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", COUNT, str(data_dir / "analytics"),
        stdout=asyncio.subprocess.PIPE, env={**os.environ},
    )  # fmt: skip
    out, _ = await process.communicate()
    result: dict[str, list[int]] = json.loads(out)
    return result


@pytest.mark.parametrize(
    "redis_url", ["memory://", pytest.param(REDIS_URL, marks=pytest.mark.redis)]
)
async def test_killed_mid_backfill_then_restarted_stores_every_row_once(
    tmp_path: Path, fake_servers: LiveServer, redis_url: str
) -> None:
    env = environment(tmp_path, fake_servers, redis_url)
    # Slow pages, so the kill lands in the middle of the backfill.
    await faults(fake_servers, "/fred/fred/series/observations", *["timeout:0.1"] * 8)

    # DGS2 alone takes 24 pages of 500: killed after 4 stored, most of it is still to come.
    assert await ingest(env, kill_after_batches=4) == -9

    assert await ingest(env) == 0

    expected = {s: [len(_vintages(s)), len(_vintages(s))] for s in SERIES}
    assert await counts(tmp_path) == expected  # every vintage, none twice
