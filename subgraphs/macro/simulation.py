"""Rate-move simulations run as jobs: what a shock to the short rate does to bond prices.

A job simulates short-rate paths (engines.shortrate: Vasicek, CIR, or Hull-White fitted to a
day's Treasury zero curve) from a base rate plus a shock, in batches; after each batch it
publishes its progress on `simulation.{job_id}`, and the last update carries the result. Every
update is retained on the bus, so a subscriber who comes late still gets the job's current
state, and written to the macro store (subgraphs.macro.job_store), so a restarted process or another
router process still answers for the job.

A process killed outright (SIGKILL, out of memory) saves nothing, so each runner holds a lease in
the store while it has jobs, renewed every third of NEXUS_SIMULATION_LEASE_SECONDS. A job still
queued or running whose runner's lease has expired was lost with its process: the next runner
that looks (one renewing its own lease, a read of the job, a subscriber waiting on it) saves it
as FAILED with `WORKER_LOST`. Lost jobs are not re-run: their inputs are not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from nexus.events import SimulationUpdate, encode, simulation_channel
from nexus.metrics import engine_call
from nexus.shutdown import on_drain
from nexus.stores.bus import Bus
from subgraphs.macro.job_store import SimulationJobs
from subgraphs.macro.jobs import JobSlots, batch_plan, finite

log = logging.getLogger("subgraphs.macro.simulation")

MAX_PATHS = 200_000
STEPS_PER_YEAR = 52
INTERRUPTED = (
    "Interrupted: the server shut down before the job finished (NEXUS_SHUTDOWN_SECONDS); "
    "nothing of it was kept. Start it again."
)
WORKER_LOST = (
    "Worker lost: the server process running this job stopped without saving it (killed, or "
    "out of memory; its lease of NEXUS_SIMULATION_LEASE_SECONDS expired); nothing of it was "
    "kept. Start it again."
)


@dataclass(frozen=True, slots=True)
class RateShock:
    """The inputs of one simulation; rates are decimals (0.05 is 5%)."""

    base_rate: float  # today's short rate, before the shock
    shock_bp: float
    horizon_years: float
    paths: int
    mean_reversion: float
    volatility: float  # absolute, per sqrt(year); CIR's sigma is volatility / sqrt(base_rate)
    long_term_mean: float
    model: str = "vasicek"  # "vasicek", "cir" or "hull_white"
    # Hull-White's initial zero curve (years, continuously compounded decimals), unshocked.
    curve_times: tuple[float, ...] = ()
    zero_rates: tuple[float, ...] = ()

    @property
    def cir_volatility(self) -> float:
        return self.volatility / math.sqrt(self.base_rate)


def _paths(shock: RateShock, batch: int) -> Any:
    from engines import shortrate

    common: dict[str, Any] = {
        "horizon": shock.horizon_years,
        "num_steps": max(1, round(shock.horizon_years * STEPS_PER_YEAR)),
        "num_paths": batch_plan(shock.paths)[1],
        "seed": batch,
    }
    shocked = shock.base_rate + shock.shock_bp / 10_000
    if shock.model == "hull_white":  # the shock moves the whole initial curve in parallel
        return shortrate.hull_white_paths(
            mean_reversion=shock.mean_reversion,
            volatility=shock.volatility,
            curve_times=np.asarray(shock.curve_times),
            zero_rates=np.asarray(shock.zero_rates) + shock.shock_bp / 10_000,
            **common,
        )
    if shock.model == "cir":
        return shortrate.cir_paths(
            mean_reversion=shock.mean_reversion,
            long_term_mean=shock.long_term_mean,
            volatility=shock.cir_volatility,
            initial_rate=shocked,
            **common,
        )
    return shortrate.vasicek_paths(
        mean_reversion=shock.mean_reversion,
        long_term_mean=shock.long_term_mean,
        volatility=shock.volatility,
        initial_rate=shocked,
        **common,
    )


def _unshocked_prices(shock: RateShock, maturities: np.ndarray) -> np.ndarray:
    """Analytic zero-coupon prices without the shock, under the job's model."""
    from engines import shortrate

    if shock.model == "hull_white":
        return np.asarray(
            shortrate.hull_white_bond_prices(
                mean_reversion=shock.mean_reversion,
                volatility=shock.volatility,
                curve_times=np.asarray(shock.curve_times),
                zero_rates=np.asarray(shock.zero_rates),
                times=0.0,
                maturities=maturities,
                short_rates=shock.base_rate,
            )
        )
    if shock.model == "cir":
        return np.asarray(
            shortrate.cir_bond_prices(
                mean_reversion=shock.mean_reversion,
                long_term_mean=shock.long_term_mean,
                volatilities=shock.cir_volatility,
                short_rates=shock.base_rate,
                maturities=maturities,
            )
        )
    return np.asarray(
        shortrate.vasicek_bond_prices(
            mean_reversion=shock.mean_reversion,
            long_term_mean=shock.long_term_mean,
            volatilities=shock.volatility,
            short_rates=shock.base_rate,
            maturities=maturities,
        )
    )


@engine_call("short_rate_paths")
def simulate(shock: RateShock, batch: int) -> dict[str, np.ndarray]:
    """One batch of paths (its own seed): the short rate at each year and the discount factors."""
    from engines.shortrate import monte_carlo_bond_prices

    paths = _paths(shock, batch)
    estimate = monte_carlo_bond_prices(paths)
    return {
        "final_rates": np.asarray(paths.rates[:, -1]),
        "bond_prices": np.asarray(estimate.values),
        "times": np.asarray(paths.times[1:]),
    }


@engine_call("short_rate_bond_prices")
def summary(shock: RateShock, batches: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """The result: where the short rate ends up and what zero-coupon bonds are worth."""
    final = np.concatenate([b["final_rates"] for b in batches])
    prices = np.mean([b["bond_prices"] for b in batches], axis=0)
    times = batches[0]["times"]
    maturities = list(range(1, math.floor(shock.horizon_years) + 1))
    picks = [int(np.argmin(np.abs(times - m))) for m in maturities]
    unshocked = _unshocked_prices(shock, np.asarray(maturities, dtype=np.float64))
    return {
        "model": shock.model,
        "base_rate": shock.base_rate,
        "shocked_rate": shock.base_rate + shock.shock_bp / 10_000,
        "paths": int(final.size),
        "final_rate_mean": float(final.mean()),
        "final_rate_p05": float(np.percentile(final, 5)),
        "final_rate_p50": float(np.percentile(final, 50)),
        "final_rate_p95": float(np.percentile(final, 95)),
        "bonds": [
            {
                "maturity_years": float(m),
                "price": float(prices[i]),
                "unshocked_price": float(base),
                "change_percent": float(100 * (prices[i] / base - 1)),
            }
            for m, i, base in zip(maturities, picks, unshocked, strict=True)
        ],
    }


class SimulationRunner:
    """Starts jobs in this process; saves and publishes each change of their state."""

    def __init__(self, bus: Bus, jobs: SimulationJobs, slots: JobSlots | None = None) -> None:
        self.bus = bus
        self.jobs = jobs
        self.slots = slots or JobSlots()
        self._running: dict[str, asyncio.Task[None]] = {}  # job id -> its task, in this process
        self._owners: dict[str, str] = {}  # job id -> who may cancel it, while it runs here
        self._interrupted: set[str] = set()  # stopped by shutdown, not cancelled by a caller
        self.id = uuid.uuid4().hex  # this runner's name in the store's leases
        self._leasing: asyncio.Task[None] | None = None  # renews the lease while jobs run here
        on_drain(self.finish)

    @property
    def lease_seconds(self) -> float:
        return self.slots.limits.lease_seconds

    async def start(self, shock: RateShock, caller: str = "anonymous", owner: str = "") -> str:
        """Queue a job (raises TooManyJobs past the caller's or the server's cap); `owner` may
        cancel it."""
        self.slots.admit(caller)
        job_id = uuid.uuid4().hex
        self._owners[job_id] = owner
        try:
            await self._renew()  # before the job's first row names this runner
            await self._publish(SimulationUpdate(job_id=job_id, status="queued", progress=0.0))
            task = asyncio.create_task(self._queued(job_id, shock), name=f"simulation-{job_id}")
        except BaseException:
            self.slots.release(caller)
            self._owners.pop(job_id, None)
            raise
        self._running[job_id] = task
        task.add_done_callback(lambda _: self._running.pop(job_id, None))
        task.add_done_callback(lambda _: self._owners.pop(job_id, None))
        task.add_done_callback(lambda _: self.slots.release(caller))
        if self._leasing is None or self._leasing.done():
            self._leasing = asyncio.create_task(self._keep_lease(), name="simulation-lease")
        return job_id

    async def _renew(self) -> None:
        try:
            await self.jobs.renew(self.id, time.time() + self.lease_seconds)
        except Exception:
            log.exception("could not renew the simulation runner's lease")

    async def _keep_lease(self) -> None:
        """While this process has jobs: renew the lease, and fail other runners' lost jobs."""
        while self._running:
            await self._renew()
            await self.reap()
            await asyncio.sleep(self.lease_seconds / 3)

    async def reap(self, job_id: str | None = None) -> bool:
        """Save as FAILED (`WORKER_LOST`) the jobs (or `job_id`) whose runner's lease expired;
        whether any was."""
        try:
            lost = await self.jobs.lost(self.id, time.time(), self.lease_seconds, job_id)
        except Exception:
            log.exception("could not look for lost simulation jobs")
            return False
        for lost_id, owner in lost:
            log.warning("simulation lost with its worker", extra={"job_id": lost_id})
            await self._publish(
                SimulationUpdate(job_id=lost_id, status="failed", progress=1.0, error=WORKER_LOST),
                owner,
            )
        return bool(lost)

    def running(self, job_id: str) -> bool:
        """Whether this process is running (or queueing) the job."""
        return job_id in self._running

    async def cancel(self, job_id: str, owner: str) -> None:
        """Stop a queued or running job: this process's task at once; a job another process
        runs stops before its next batch, when that process reads the CANCELLED state."""
        task = self._running.get(job_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return
        await self._publish(
            SimulationUpdate(job_id=job_id, status="cancelled", progress=1.0), owner
        )

    async def finish(self, seconds: float) -> None:
        """At shutdown: jobs queued or running get `seconds` to finish; those still unfinished
        are stopped and saved as FAILED with `INTERRUPTED` as their error, so a restarted
        process (or any other) answers for them instead of leaving them running forever."""
        loop = asyncio.get_running_loop()  # (a test session runs apps on several loops)
        try:
            await self._finish(loop, seconds)
        finally:  # the lease outlives the jobs it covers, then goes with the process
            if self._leasing is not None and self._leasing.get_loop() is loop:
                self._leasing.cancel()

    async def _finish(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        jobs = {task: job for job, task in self._running.items() if task.get_loop() is loop}
        if not jobs:
            return
        _, unfinished = await asyncio.wait(jobs, timeout=seconds) if seconds > 0 else ((), jobs)
        for task in unfinished:
            self._interrupted.add(jobs[task])
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        for task in unfinished:
            job_id = jobs[task]
            log.warning("simulation interrupted by shutdown", extra={"job_id": job_id})
            await self._publish(
                SimulationUpdate(job_id=job_id, status="failed", progress=1.0, error=INTERRUPTED)
            )

    async def _queued(self, job_id: str, shock: RateShock) -> None:
        try:
            async with self.slots.worker:  # the bounded pool: wait for a free worker
                await self._run(job_id, shock)
        except asyncio.CancelledError:
            if job_id not in self._interrupted:  # a caller's cancel; shutdown saves its own state
                await self._publish(
                    SimulationUpdate(job_id=job_id, status="cancelled", progress=1.0)
                )
            raise

    async def _ended_elsewhere(self, job_id: str) -> SimulationUpdate | None:
        """The final state another process gave the job while it ran here (cancelled through
        it, or failed as lost while this process stalled past its lease), else None."""
        try:
            ended = await self.jobs.ended(job_id)
        except Exception:
            return None
        if ended == "cancelled":
            return SimulationUpdate(job_id=job_id, status="cancelled", progress=1.0)
        if ended == "failed":
            return SimulationUpdate(job_id=job_id, status="failed", progress=1.0, error=WORKER_LOST)
        return None

    async def _run(self, job_id: str, shock: RateShock) -> None:
        batches: list[dict[str, np.ndarray]] = []
        count = batch_plan(shock.paths)[0]
        try:
            for batch in range(count):
                if await self._ended_elsewhere(job_id):
                    break
                batches.append(await asyncio.to_thread(simulate, shock, batch))
                await self._publish(
                    SimulationUpdate(
                        job_id=job_id, status="running", progress=(batch + 1) / (count + 1)
                    )
                )
            ended = await self._ended_elsewhere(job_id)
            if ended is not None:
                # Ended through another process: stop, and be the latest state again (a
                # progress update of ours may have landed after that one).
                await self._publish(ended)
                return
            result = await asyncio.to_thread(summary, shock, batches)
            if not finite(result):
                raise FloatingPointError("the simulation produced non-finite numbers")
            final = SimulationUpdate(job_id=job_id, status="succeeded", progress=1.0, result=result)
        except Exception:
            log.exception("simulation failed", extra={"job_id": job_id})
            final = SimulationUpdate(
                job_id=job_id, status="failed", progress=1.0, error="The simulation failed."
            )
        await self._publish(final)

    async def _publish(self, update: SimulationUpdate, owner: str | None = None) -> None:
        stamped = dataclasses.replace(update, published_at=time.time())
        try:
            await self.jobs.save(
                stamped,
                self._owners.get(update.job_id, "") if owner is None else owner,
                self.id,
            )
        except Exception:
            log.exception("could not save a simulation update", extra={"job_id": update.job_id})
        try:
            await self.bus.publish(simulation_channel(update.job_id), encode(stamped), retain=True)
        except Exception:
            log.exception("could not publish a simulation update", extra={"job_id": update.job_id})
