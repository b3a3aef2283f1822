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
from subgraphs.macro.ddl import (
    DATABASE,
    SIMULATION_JOB_OWNERS,
    SIMULATION_JOB_RUNNERS,
    SIMULATION_JOBS,
    SIMULATION_LEASES,
)

# Stores whose table this process has made sure of (one DDL round trip per store and process).
_READY: weakref.WeakSet[Any] = weakref.WeakSet()
_COLUMNS = ["job_id", "version", "status", "progress", "result", "error", "published_at"]
_OWNED = [*_COLUMNS, "owner", "runner"]


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
            await self.store.command(SIMULATION_JOB_RUNNERS)
            await self.store.command(SIMULATION_LEASES)
            _READY.add(self.store)

    async def save(self, update: SimulationUpdate, owner: str = "", runner: str = "") -> None:
        """Adds the job's new state; `owner` is who may cancel it (empty: nobody), `runner` the
        runner that wrote it (see `lost`)."""
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
            runner,
        ]
        await self.store.insert(f"{DATABASE}.simulation_jobs", _OWNED, [row])

    async def renew(self, runner: str, expires_at: float) -> None:
        """`runner` is alive, with jobs, until `expires_at` (Unix seconds)."""
        await self._ensure_table()
        row = [runner, time.time_ns(), expires_at]
        await self.store.insert(
            f"{DATABASE}.simulation_leases", ["runner", "version", "expires_at"], [row]
        )

    async def lost(
        self, alive: str, now: float, lease_seconds: float, job_id: str | None = None
    ) -> list[tuple[str, str]]:
        """(job id, owner) of the jobs (or of `job_id`) still queued or running whose runner
        holds no lease at `now` and which have not changed for `lease_seconds`: their process
        died without saving them. Runner `alive` (the caller's own) is never lost."""
        await self._ensure_table()
        params: dict[str, Any] = {"alive": alive, "now": now, "stale": now - lease_seconds}
        only = ""
        if job_id is not None:
            only, params["id"] = "WHERE job_id = {id:String} ", job_id
        rows = await self.store.query(
            "SELECT job_id, owner FROM ("
            "SELECT job_id, argMax(status, version) AS status, argMax(owner, version) AS owner, "
            "argMax(runner, version) AS runner, argMax(published_at, version) AS published_at "
            f"FROM {DATABASE}.simulation_jobs {only}GROUP BY job_id) "
            "WHERE status IN ('queued', 'running') AND runner != {alive:String} "
            "AND published_at < {stale:Float64} AND runner NOT IN ("
            f"SELECT runner FROM {DATABASE}.simulation_leases "
            "GROUP BY runner HAVING max(expires_at) > {now:Float64})",
            params,
        )
        return [(str(row["job_id"]), str(row["owner"])) for row in rows]

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

    async def ended(self, job_id: str) -> str | None:
        """How another process ended the job, if one did: "cancelled" (cancelSimulation) or
        "failed" (found lost, see `lost`), the first such row; the job's latest row may be a
        later progress of the process still running it."""
        await self._ensure_table()
        rows = await self.store.query(
            f"SELECT status FROM {DATABASE}.simulation_jobs WHERE job_id = {{id:String}} "
            "AND status IN ('cancelled', 'failed') ORDER BY version LIMIT 1",
            {"id": job_id},
        )
        return str(rows[0]["status"]) if rows else None

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
