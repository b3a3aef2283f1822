"""Rate-move simulation jobs in GraphQL: start one, follow its progress, read its result."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import time
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Authenticated, Cost
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput, Conflict, NotFound
from nexus.events import SimulationUpdate, decode, simulation_channel
from subgraphs.live import EventStream
from subgraphs.macro.analytics import par_curve
from subgraphs.macro.job_store import SimulationJobs, owner_of
from subgraphs.macro.jobs import check_rates
from subgraphs.macro.loaders import MacroContext
from subgraphs.macro.simulation import MAX_PATHS, RateShock, SimulationRunner

BASE_RATE_SERIES = "FEDFUNDS"
_runners: weakref.WeakKeyDictionary[Any, SimulationRunner] = weakref.WeakKeyDictionary()


def runner_for(context: MacroContext) -> SimulationRunner:
    """The process's one runner per bus, so jobs outlive the request that started them."""
    runner = _runners.get(context.bus)
    if runner is None:
        runner = _runners[context.bus] = SimulationRunner(
            context.bus, SimulationJobs(context.store)
        )
    return runner


@strawberry.enum(description="A one-factor short-rate model.")
class ShortRateModel(enum.Enum):
    VASICEK = strawberry.enum_value(
        "vasicek", description="Vasicek: Gaussian, mean-reverting to a constant long-term mean."
    )
    CIR = strawberry.enum_value(
        "cir",
        description="Cox-Ingersoll-Ross: volatility proportional to sqrt(rate), rates stay >= 0.",
    )
    HULL_WHITE = strawberry.enum_value(
        "hull_white",
        description="Hull-White: Vasicek whose drift is fitted to a day's Treasury zero curve.",
    )


@strawberry.enum(description="Where a simulation job is in its life.")
class SimulationStatus(enum.Enum):
    QUEUED = strawberry.enum_value("queued", description="Accepted, not started yet.")
    RUNNING = strawberry.enum_value("running", description="Simulating; see `progress`.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Done; `result` holds the answer.")
    FAILED = strawberry.enum_value("failed", description="Stopped; `error` says why.")
    CANCELLED = strawberry.enum_value(
        "cancelled", description="Stopped by `cancelSimulation` before it finished; no result."
    )


@strawberry.input(description="A shock to the short rate, simulated with a short-rate model.")
class RateSimulationInput:
    shock_bp: float = strawberry.field(description="The shock in basis points (100 = +1%).")
    model: ShortRateModel = strawberry.field(
        default=ShortRateModel.VASICEK,
        description="The model; default VASICEK. HULL_WHITE shocks the whole zero curve of "
        "`curveDate` in parallel and ignores `baseRatePercent` and `longTermMeanPercent`.",
    )
    curve_date: dt.date | None = strawberry.field(
        default=None,
        description="HULL_WHITE: the day whose Treasury zero curve the model is fitted to (the "
        "last business day before it on a holiday); default: the latest curve.",
    )
    horizon_years: float = strawberry.field(
        default=5.0, description="How far to simulate, years (above 0, up to 30)."
    )
    paths: int = strawberry.field(
        default=20_000, description=f"Monte Carlo paths, 2 to {MAX_PATHS:,}."
    )
    mean_reversion: float = strawberry.field(
        default=0.15, description="Speed of reversion to the mean, per year (above 0, up to 10)."
    )
    volatility_percent: float = strawberry.field(
        default=1.0,
        description="Short-rate volatility, in percent per sqrt(year) (CIR: at the base rate).",
    )
    base_rate_percent: float | None = strawberry.field(
        default=None,
        description="Today's short rate, percent; default: the last FEDFUNDS value.",
    )
    long_term_mean_percent: float | None = strawberry.field(
        default=None, description="Where the rate reverts to, percent; default: the base rate."
    )


@strawberry.type(description="A zero-coupon bond's price with and without the shock.")
class BondPriceChange:
    maturity_years: float = strawberry.field(description="The bond's maturity, years.")
    price: float = strawberry.field(
        description="Zero-coupon price after the shock (Monte Carlo), fraction of face value."
    )
    unshocked_price: float = strawberry.field(
        description="Analytic price without the shock, fraction of face value."
    )
    change_percent: float = strawberry.field(
        description="`price` against `unshockedPrice`, percent (negative: the bond lost value)."
    )


@strawberry.type(description="Where the short rate ends up and what bonds are worth after it.")
class RateSimulationResult:
    """Rates here are fractions (0.05 is 5%), though the input takes percent."""

    model: ShortRateModel = strawberry.field(description="The model simulated.")
    base_rate: float = strawberry.field(
        description="The short rate before the shock, fraction; Hull-White: the curve's "
        "shortest zero rate, continuously compounded."
    )
    shocked_rate: float = strawberry.field(
        description="The short rate right after the shock, fraction."
    )
    paths: int = strawberry.field(description="Monte Carlo paths simulated.")
    final_rate_mean: float = strawberry.field(
        description="Mean short rate at the horizon, fraction."
    )
    final_rate_p05: float = strawberry.field(
        description="5th percentile of the short rate at the horizon, fraction."
    )
    final_rate_p50: float = strawberry.field(
        description="Median short rate at the horizon, fraction."
    )
    final_rate_p95: float = strawberry.field(
        description="95th percentile of the short rate at the horizon, fraction."
    )
    bonds: list[BondPriceChange] = strawberry.field(
        description="Zero-coupon bonds maturing each whole year up to the horizon.",
        directives=[assumed_size(30)],  # demand control: the horizon is at most 30 years
    )


@strawberry.type(description="A simulation job: its progress, then its result or error.")
class SimulationJob:
    id: strawberry.ID = strawberry.field(description="The job's id, for `simulation(jobId:)`.")
    status: SimulationStatus = strawberry.field(description="Where the job is.")
    progress: float = strawberry.field(description="Fraction done, from 0 to 1.")
    result: RateSimulationResult | None = strawberry.field(
        description="The answer, once the job succeeded; null before."
    )
    error: str | None = strawberry.field(description="Why the job failed; null unless it did.")


def job_from(update: SimulationUpdate) -> SimulationJob:
    return SimulationJob(
        id=strawberry.ID(update.job_id),
        status=SimulationStatus(update.status),
        progress=update.progress,
        result=_result(update.result) if update.result is not None else None,
        error=update.error,
    )


def _result(result: Mapping[str, Any]) -> RateSimulationResult:
    bonds = [BondPriceChange(**bond) for bond in result["bonds"]]
    model = ShortRateModel[str(result.get("model", "vasicek")).upper()]
    return RateSimulationResult(**{**result, "bonds": bonds, "model": model})


async def _shock(context: MacroContext, spec: RateSimulationInput) -> RateShock:
    checks = (
        (-2000 <= spec.shock_bp <= 2000, "shockBp", "between -2000 and 2000"),
        (0 < spec.horizon_years <= 30, "horizonYears", "above 0 and at most 30"),
        (2 <= spec.paths <= MAX_PATHS, "paths", f"between 2 and {MAX_PATHS}"),
        (0 < spec.mean_reversion <= 10, "meanReversion", "above 0 and at most 10"),
        (0 <= spec.volatility_percent <= 20, "volatilityPercent", "between 0 and 20"),
    )
    for ok, name, bounds in checks:
        if not ok:
            raise BadUserInput(f"`{name}` must be {bounds}.", argument=name)
    check_rates(spec.base_rate_percent, spec.long_term_mean_percent)
    if spec.model is ShortRateModel.HULL_WHITE:
        return await _hull_white_shock(context, spec)
    base = spec.base_rate_percent
    if base is None:
        latest = await context.latest_observations.load(BASE_RATE_SERIES)
        if latest is None:
            raise BadUserInput(
                f"No {BASE_RATE_SERIES} on record: give `baseRatePercent`.",
                argument="baseRatePercent",
            )
        base = float(latest.value)
    long_term = spec.long_term_mean_percent if spec.long_term_mean_percent is not None else base
    # CIR's rate cannot go below 0 and its volatility is quoted at the base rate.
    cir_out_of_range = not base > 0 or base + spec.shock_bp / 100 < 0 or long_term < 0
    if spec.model is ShortRateModel.CIR and cir_out_of_range:
        raise BadUserInput(
            "CIR needs a base rate above 0, a shocked rate and a long-term mean at least 0.",
            argument="baseRatePercent",
        )
    return RateShock(
        base_rate=base / 100,
        shock_bp=spec.shock_bp,
        horizon_years=spec.horizon_years,
        paths=spec.paths,
        mean_reversion=spec.mean_reversion,
        volatility=spec.volatility_percent / 100,
        long_term_mean=long_term / 100,
        model=spec.model.name.lower(),
    )


async def _hull_white_shock(context: MacroContext, spec: RateSimulationInput) -> RateShock:
    day = spec.curve_date or dt.date.today()
    record = await context.par_curves.load(day)
    if record is None:
        raise BadUserInput(
            f"No Treasury curve on or before {day}: the first is 1990-01-02.", argument="curveDate"
        )
    curve = await context.analytics.zero_curves.load(par_curve(record))
    return RateShock(
        base_rate=float(curve.zero_rates[0]),
        shock_bp=spec.shock_bp,
        horizon_years=spec.horizon_years,
        paths=spec.paths,
        mean_reversion=spec.mean_reversion,
        volatility=spec.volatility_percent / 100,
        long_term_mean=float(curve.zero_rates[-1]),
        model=spec.model.name.lower(),
        curve_times=tuple(map(float, curve.times)),
        zero_rates=tuple(map(float, curve.zero_rates)),
    )


async def _current(context: MacroContext, job_id: str) -> SimulationUpdate:
    """The job's latest state: from the store (any process's job), else the bus's last update;
    a job lost with its process (see `SimulationRunner.reap`) is saved FAILED first."""
    current = await _latest(context, job_id)
    runner = runner_for(context)
    if current.finished or time.time() - current.published_at < runner.lease_seconds:
        return current  # finished, or changed within a lease: not lost
    if not runner.running(job_id) and await runner.reap(job_id):
        return await _latest(context, job_id)
    return current


async def _reap_when_lost(context: MacroContext, job_id: str) -> None:
    """For a subscriber: every lease, fail the job if its process was lost (the FAILED update
    then reaches the subscription over the bus)."""
    runner = runner_for(context)
    while True:
        await asyncio.sleep(runner.lease_seconds)
        if await runner.reap(job_id):
            return


async def _latest(context: MacroContext, job_id: str) -> SimulationUpdate:
    stored = await SimulationJobs(context.store).load(job_id)
    (payload,) = await context.bus.last([simulation_channel(job_id)])
    update = decode(payload) if payload is not None else None
    if not isinstance(update, SimulationUpdate):
        update = None
    found = [u for u in (stored, update) if u is not None]
    if not found:
        raise NotFound(f"No simulation job {job_id!r}.", argument="jobId")
    return max(found, key=lambda u: u.published_at)


JOB_ID = strawberry.argument(description="The id `startRateSimulation` returned.")


@strawberry.type
class SimulationQuery:
    @strawberry.field(description="A simulation job's current state.")
    async def simulation(
        self, info: Info[MacroContext, None], job_id: Annotated[strawberry.ID, JOB_ID]
    ) -> SimulationJob:
        return job_from(await _current(info.context, str(job_id)))


@strawberry.type(description="The entry points for changing data or starting work.")
class Mutation:
    @strawberry.mutation(
        description="Start a rate-move simulation; follow it with `subscription { simulation }`. "
        "Jobs queue for a bounded pool of workers; a caller may hold a few jobs queued or "
        "running at once (TOO_MANY_JOBS past that).",
        directives=[Cost(weight=50)],
    )
    async def start_rate_simulation(
        self,
        info: Info[MacroContext, None],
        input: Annotated[
            RateSimulationInput, strawberry.argument(description="The shock and the model.")
        ],
    ) -> SimulationJob:
        shock = await _shock(info.context, input)
        caller = info.context.caller
        job_id = await runner_for(info.context).start(shock, caller.rate_key, owner_of(caller))
        return job_from(await _current(info.context, job_id))

    @strawberry.mutation(
        description="Cancel a queued or running simulation job started by your organisation "
        "(or by you); its status becomes CANCELLED. A finished job is a CONFLICT; another "
        "caller's job is NOT_FOUND, like an unknown id.",
        directives=[Authenticated()],
    )
    async def cancel_simulation(
        self, info: Info[MacroContext, None], job_id: Annotated[strawberry.ID, JOB_ID]
    ) -> SimulationJob:
        context, job = info.context, str(job_id)
        owner = owner_of(context.caller)
        current = await _current(context, job)
        if not owner or await SimulationJobs(context.store).owner(job) != owner:
            raise NotFound(f"No simulation job {job!r}.", argument="jobId")
        if current.finished:
            raise Conflict(
                f"The job is {current.status} already; only queued or running jobs can be "
                "cancelled."
            )
        await runner_for(context).cancel(job, owner)
        return job_from(await _current(context, job))


@strawberry.type(description="Live streams, over WebSocket or Server-Sent Events.")
class Subscription:
    @strawberry.subscription(
        description="A simulation job's state now, then each change until it succeeds or fails."
    )
    async def simulation(
        self, info: Info[MacroContext, None], job_id: Annotated[strawberry.ID, JOB_ID]
    ) -> AsyncGenerator[SimulationJob, None]:
        bus = info.context.bus
        stream = await EventStream.open(bus, SimulationUpdate, simulation_channel(str(job_id)))
        watch: asyncio.Task[None] | None = None
        try:
            current = await _current(info.context, str(job_id))
            yield job_from(current)
            if current.finished:
                return
            if not runner_for(info.context).running(str(job_id)):
                watch = asyncio.create_task(_reap_when_lost(info.context, str(job_id)))
            async for update in stream:
                if update.published_at <= current.published_at:
                    continue
                yield job_from(update)
                if update.finished:
                    return
        finally:
            if watch is not None:
                watch.cancel()
            await stream.close()
