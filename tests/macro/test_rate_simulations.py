"""Rate simulations under each model, and jobs that outlive the process's bus."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
from graphql import ExecutionResult

from nexus.auth.caller import Caller
from nexus.config import Settings
from nexus.events import SimulationUpdate
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.macro import subgraph
from subgraphs.macro.job_store import SimulationJobs
from subgraphs.macro.live import runner_for
from tests.support.graphql import execute

JOB = (
    "id status progress error result { model baseRate shockedRate paths "
    "bonds { maturityYears price unshockedPrice changePercent } }"
)


def fresh_process(analytics: ChdbStore) -> Stores:
    """What another router process has: the same macro store, its own (empty) bus."""
    return Stores(settings=Settings.from_env({}), analytics=analytics)


async def run_job(stores: Stores, spec: str) -> dict[str, Any]:
    started = await execute(
        subgraph, stores, f"mutation {{ startRateSimulation(input: {{ {spec} }}) {{ {JOB} }} }}"
    )
    assert "errors" not in started, started.get("errors")
    job = started["data"]["startRateSimulation"]
    for _ in range(600):
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        await asyncio.sleep(0.2)
        polled = await execute(
            subgraph,
            stores,
            "query($id: ID!) { simulation(jobId: $id) { " + JOB + " } }",
            {"id": job["id"]},
        )
        job = polled["data"]["simulation"]
    raise AssertionError("the job did not finish")


async def test_cir_and_hull_white_jobs_persist_for_another_process(analytics: ChdbStore) -> None:
    cir = await run_job(
        fresh_process(analytics),
        "model: CIR, shockBp: 100, horizonYears: 2, paths: 2000, baseRatePercent: 4.0",
    )
    assert cir["status"] == "SUCCEEDED", cir["error"]
    assert cir["result"]["model"] == "CIR" and cir["result"]["shockedRate"] == pytest.approx(0.05)
    assert all(b["changePercent"] < 0 for b in cir["result"]["bonds"])

    hull_white = await run_job(
        fresh_process(analytics),
        'model: HULL_WHITE, curveDate: "2024-12-31", shockBp: -50, horizonYears: 3, paths: 2000',
    )
    assert hull_white["status"] == "SUCCEEDED", hull_white["error"]
    result = hull_white["result"]
    assert result["model"] == "HULL_WHITE"
    # Calibrated to the day's curve: unshocked prices are the curve's discount factors.
    curve = await execute(
        subgraph,
        fresh_process(analytics),
        '{ yieldCurve(date: "2024-12-31") { bootstrapped { maturitiesYears discountFactors } } }',
    )
    boot = curve["data"]["yieldCurve"]["bootstrapped"]
    factors = dict(zip(boot["maturitiesYears"], boot["discountFactors"], strict=True))
    for bond in result["bonds"]:
        assert bond["unshockedPrice"] == pytest.approx(factors[bond["maturityYears"]], rel=1e-9)
        assert bond["changePercent"] > 0  # rates 50 bp lower: bonds dearer
    assert result["baseRate"] == pytest.approx(math.log1p(0.044 / 12) * 12, rel=1e-9)

    # A process that never saw these jobs on its bus still answers from the macro store.
    for job in (cir, hull_white):
        again = await execute(
            subgraph,
            fresh_process(analytics),
            "query($id: ID!) { simulation(jobId: $id) { " + JOB + " } }",
            {"id": job["id"]},
        )
        assert again["data"]["simulation"] == job


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        ("model: CIR, shockBp: -500, baseRatePercent: 4.0", "baseRatePercent"),
        ('model: HULL_WHITE, shockBp: 10, curveDate: "1985-01-01"', "curveDate"),
    ],
)
async def test_impossible_model_inputs_are_bad_user_input(
    analytics: ChdbStore, spec: str, argument: str
) -> None:
    response = await execute(
        subgraph,
        fresh_process(analytics),
        f"mutation {{ startRateSimulation(input: {{ {spec} }}) {{ id }} }}",
    )
    (error,) = response["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def _as(stores: Stores, caller: Caller, query: str, variables: dict[str, Any]) -> Any:
    return await subgraph.schema.execute(
        query, variable_values=variables, context_value=subgraph.make_context(stores, caller)
    )


async def test_a_job_cancelled_through_another_process_stops(analytics: ChdbStore) -> None:
    """The process running a job and the one that receives `cancelSimulation` differ (two
    router processes): the cancel is written to the macro store, and the running job stops
    before its next batch and ends CANCELLED, with no result."""
    caller = Caller(kind="api_key", organization_id="org-sim", api_key_id="k-sim")
    running, other = fresh_process(analytics), fresh_process(analytics)
    started = await _as(
        running,
        caller,
        "mutation { startRateSimulation(input: {shockBp: 100, paths: 200000, horizonYears: 30})"
        " { id } }",
        {},
    )
    assert started.errors is None, started.errors
    job_id = started.data["startRateSimulation"]["id"]
    cancel = "mutation($id: ID!) { cancelSimulation(jobId: $id) { status } }"
    stranger = Caller(kind="api_key", organization_id="org-other", api_key_id="k-other")
    refused = await _as(other, stranger, cancel, {"id": job_id})
    assert refused.errors and refused.errors[0].extensions["code"] == "NOT_FOUND"
    cancelled = await _as(other, caller, cancel, {"id": job_id})
    assert cancelled.errors is None and cancelled.data["cancelSimulation"]["status"] == "CANCELLED"
    job = "query($id: ID!) { simulation(jobId: $id) { status result { paths } } }"
    for _ in range(300):  # the running process notices before its next batch
        await asyncio.sleep(0.2)
        if not runner_for(subgraph.make_context(running)).running(job_id):
            break
    else:
        raise AssertionError("the job kept running")
    final = await _as(running, caller, job, {"id": job_id})
    assert final.data["simulation"] == {"status": "CANCELLED", "result": None}


async def test_only_jobs_whose_runner_lease_expired_are_lost(analytics: ChdbStore) -> None:
    """A job is lost when its runner holds no live lease and it has not changed for a lease;
    the runner asking is never lost itself."""
    jobs, now, lease = SimulationJobs(analytics), time.time(), 5.0
    old = now - 60
    for update, runner in (
        (SimulationUpdate("lost-live", "running", 0.5, published_at=old), "runner-live"),
        (SimulationUpdate("lost-dead", "running", 0.5, published_at=old), "runner-dead"),
        (SimulationUpdate("lost-dead-queued", "queued", 0.5, published_at=old), "runner-dead"),
        (SimulationUpdate("lost-done", "succeeded", 1.0, published_at=old), "runner-dead"),
        (SimulationUpdate("lost-mine", "running", 0.5, published_at=old), "runner-me"),
    ):
        await jobs.save(update, owner="org:o", runner=runner)
    await jobs.save(
        SimulationUpdate(job_id="lost-fresh", status="running", progress=0.5, published_at=now),
        runner="runner-dead",
    )
    await jobs.renew("runner-live", now + lease)
    await jobs.renew("runner-dead", now - 1)  # expired

    lost = await jobs.lost("runner-me", now, lease)
    assert sorted(i for i, _ in lost if i.startswith("lost-")) == ["lost-dead", "lost-dead-queued"]
    assert await jobs.lost("runner-me", now, lease, "lost-live") == []
    assert await jobs.lost("runner-me", now, lease, "lost-dead") == [("lost-dead", "org:o")]


async def test_a_subscriber_to_a_job_lost_with_its_process_gets_failed(
    analytics: ChdbStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job another process was running when it was killed: its last state is fresh, so the
    subscription first sees it RUNNING, then, once the dead runner's lease is over, FAILED."""
    monkeypatch.setenv("NEXUS_SIMULATION_LEASE_SECONDS", "0.5")
    stores = fresh_process(analytics)  # its own bus: a new runner reads the lease above
    jobs = SimulationJobs(analytics)
    await jobs.renew("killed-runner", time.time() + 0.5)
    await jobs.save(
        SimulationUpdate("killed-job", "running", 0.4, published_at=time.time()),
        runner="killed-runner",
    )
    updates = await subgraph.schema.subscribe(
        'subscription { simulation(jobId: "killed-job") { status error } }',
        context_value=subgraph.make_context(stores),
    )
    assert not isinstance(updates, ExecutionResult)
    try:
        first = await asyncio.wait_for(anext(updates), 30)
        assert first.data == {"simulation": {"status": "RUNNING", "error": None}}
        last = await asyncio.wait_for(anext(updates), 30)
        assert last.data is not None
        assert last.data["simulation"]["status"] == "FAILED"
        assert last.data["simulation"]["error"].startswith("Worker lost")
    finally:
        await updates.aclose()
