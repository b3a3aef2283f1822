"""Rate-move simulations run as jobs: what a shock to the short rate does to bond prices.

A job simulates Vasicek short-rate paths (engines.shortrate) from today's effective federal
funds rate plus a shock, in batches; after each batch it publishes its progress on
`simulation.{job_id}`, and the last update carries the result. Every update is retained on the
bus, so a subscriber who comes late (or a job id asked about after it finished) still gets the
job's current state. Jobs live as long as the bus keeps their last update (Redis: until it
restarts; in-process: until the process ends).
"""

from __future__ import annotations

import asyncio
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
from nexus.stores.bus import Bus
from subgraphs.macro.jobs import JobSlots, batch_plan, finite

log = logging.getLogger("subgraphs.macro.simulation")

MAX_PATHS = 200_000
STEPS_PER_YEAR = 52


@dataclass(frozen=True, slots=True)
class RateShock:
    """The inputs of one simulation; rates are decimals (0.05 is 5%)."""

    base_rate: float  # today's short rate, before the shock
    shock_bp: float
    horizon_years: float
    paths: int
    mean_reversion: float
    volatility: float
    long_term_mean: float


@engine_call("vasicek_paths")
def simulate(shock: RateShock, batch: int) -> dict[str, np.ndarray]:
    """One batch of paths (its own seed): the short rate at each year and the discount factors."""
    from engines.shortrate import monte_carlo_bond_prices, vasicek_paths

    steps = max(1, round(shock.horizon_years * STEPS_PER_YEAR))
    paths = vasicek_paths(
        mean_reversion=shock.mean_reversion,
        long_term_mean=shock.long_term_mean,
        volatility=shock.volatility,
        initial_rate=shock.base_rate + shock.shock_bp / 10_000,
        horizon=shock.horizon_years,
        num_steps=steps,
        num_paths=batch_plan(shock.paths)[1],
        seed=batch,
    )
    estimate = monte_carlo_bond_prices(paths)
    return {
        "final_rates": np.asarray(paths.rates[:, -1]),
        "bond_prices": np.asarray(estimate.values),
        "times": np.asarray(paths.times[1:]),
    }


@engine_call("vasicek_bond_prices")
def summary(shock: RateShock, batches: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """The result: where the short rate ends up and what zero-coupon bonds are worth."""
    from engines.shortrate import vasicek_bond_prices

    final = np.concatenate([b["final_rates"] for b in batches])
    prices = np.mean([b["bond_prices"] for b in batches], axis=0)
    times = batches[0]["times"]
    maturities = list(range(1, math.floor(shock.horizon_years) + 1))
    picks = [int(np.argmin(np.abs(times - m))) for m in maturities]
    unshocked = np.asarray(
        vasicek_bond_prices(
            mean_reversion=shock.mean_reversion,
            long_term_mean=shock.long_term_mean,
            volatilities=shock.volatility,
            short_rates=shock.base_rate,
            maturities=np.asarray(maturities, dtype=np.float64),
        )
    )
    return {
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
    """Starts jobs in this process and publishes their progress on the bus."""

    def __init__(self, bus: Bus, slots: JobSlots | None = None) -> None:
        self.bus = bus
        self.slots = slots or JobSlots()
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, shock: RateShock, caller: str = "anonymous") -> str:
        """Queue a job (raises TooManyJobs past the caller's or the server's cap)."""
        self.slots.admit(caller)
        job_id = uuid.uuid4().hex
        try:
            await self._publish(SimulationUpdate(job_id=job_id, status="queued", progress=0.0))
            task = asyncio.create_task(self._queued(job_id, shock), name=f"simulation-{job_id}")
        except BaseException:
            self.slots.release(caller)
            raise
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda _: self.slots.release(caller))
        return job_id

    async def _queued(self, job_id: str, shock: RateShock) -> None:
        async with self.slots.worker:  # the bounded pool: wait for a free worker
            await self._run(job_id, shock)

    async def _run(self, job_id: str, shock: RateShock) -> None:
        batches: list[dict[str, np.ndarray]] = []
        count = batch_plan(shock.paths)[0]
        try:
            for batch in range(count):
                batches.append(await asyncio.to_thread(simulate, shock, batch))
                await self._publish(
                    SimulationUpdate(
                        job_id=job_id, status="running", progress=(batch + 1) / (count + 1)
                    )
                )
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

    async def _publish(self, update: SimulationUpdate) -> None:
        stamped = dataclasses.replace(update, published_at=time.time())
        try:
            await self.bus.publish(simulation_channel(update.job_id), encode(stamped), retain=True)
        except Exception:
            log.exception("could not publish a simulation update", extra={"job_id": update.job_id})
