"""Simulation jobs in the macro store, so any process can answer for any job.

Each state a job goes through (queued, running, then succeeded, failed or cancelled) is one row of
`macro.simulation_jobs`, a ReplacingMergeTree keyed by job id that keeps the row with the
highest `version`; a read takes the latest row itself (no wait for a merge). The bus still
carries the live updates; the store is what a restarted process, or another router process
whose bus never saw the job, reads.
"""

from __future__ import annotations

import json
import time
import weakref
from typing import Any

from nexus.auth.caller import Caller
from nexus.events import SimulationUpdate
from nexus.stores.analytics import AnalyticsStore
from subgraphs.macro.ddl import DATABASE, SIMULATION_JOB_OWNERS, SIMULATION_JOBS

# Stores whose table this process has made sure of (one DDL round trip per store and process).
_READY: weakref.WeakSet[Any] = weakref.WeakSet()
_COLUMNS = ["job_id", "version", "status", "progress", "result", "error", "published_at"]
_OWNED = [*_COLUMNS, "owner"]


class SimulationJobs:
    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    async def _ensure_table(self) -> None:
        # The demo load creates it too; a store loaded before this table existed gets it here.
        if self.store not in _READY:
            # A store started without the demo (`--no-demo`) has no macro database yet.
            await self.store.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
            await self.store.command(SIMULATION_JOBS)
            await self.store.command(SIMULATION_JOB_OWNERS)
            _READY.add(self.store)

    async def save(self, update: SimulationUpdate, owner: str = "") -> None:
        """Adds the job's new state; `owner` is who may cancel it (empty: nobody)."""
        await self._ensure_table()
        row = [
            update.job_id,
            time.time_ns(),
            update.status,
            update.progress,
            "" if update.result is None else json.dumps(update.result),
            update.error,
            update.published_at,
            owner,
        ]
        await self.store.insert(f"{DATABASE}.simulation_jobs", _OWNED, [row])

    async def load(self, job_id: str) -> SimulationUpdate | None:
        await self._ensure_table()
        rows = await self.store.query(
            f"SELECT {', '.join(_COLUMNS)} FROM {DATABASE}.simulation_jobs "
            "WHERE job_id = {id:String} ORDER BY version DESC LIMIT 1",
            {"id": job_id},
        )
        if not rows:
            return None
        row = rows[0]
        return SimulationUpdate(
            job_id=row["job_id"],
            status=row["status"],
            progress=row["progress"],
            result=json.loads(row["result"]) if row["result"] else None,
            error=row["error"],
            published_at=row["published_at"],
        )

    async def cancelled(self, job_id: str) -> bool:
        """Whether any process cancelled the job (its latest row may be a later progress)."""
        await self._ensure_table()
        rows = await self.store.query(
            f"SELECT count() AS n FROM {DATABASE}.simulation_jobs "
            "WHERE job_id = {id:String} AND status = 'cancelled'",
            {"id": job_id},
        )
        return bool(rows and int(rows[0]["n"]))

    async def owner(self, job_id: str) -> str | None:
        """Who started the job (see `owner_of`); None for an unknown job."""
        await self._ensure_table()
        rows = await self.store.query(
            f"SELECT owner FROM {DATABASE}.simulation_jobs "
            "WHERE job_id = {id:String} ORDER BY version DESC LIMIT 1",
            {"id": job_id},
        )
        return str(rows[0]["owner"]) if rows else None


def owner_of(caller: Caller) -> str:
    """Whose job a caller starts: its organisation's (any member or key of it may cancel it),
    else the caller's own; anonymous callers' jobs belong to nobody and cannot be cancelled."""
    if caller.organization_id:
        return f"org:{caller.organization_id}"
    return caller.rate_key if caller.authenticated else ""
