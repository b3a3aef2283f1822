"""Simulation jobs are not lost when a real `nexus subgraph macro` process gets SIGTERM.

One worker, a deadline of 3 s: the small job at the head of the queue finishes during the
drain; the heavy ones behind it cannot, and are saved as FAILED with an error that says they
were interrupted. A process restarted on the same data directory answers for every job, and
none is left QUEUED or RUNNING.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import NexusProcess, router_headers

DEADLINE_SECONDS = 3
ENV = {
    "NEXUS_SHUTDOWN_SECONDS": str(DEADLINE_SECONDS),
    "NEXUS_SIMULATION_WORKERS": "1",
    "NEXUS_SIMULATION_JOBS_PER_CALLER": "10",
    "NEXUS_REPLAY": "off",
}
SMALL = "shockBp: 50, baseRatePercent: 4, horizonYears: 1, paths: 2"
HEAVY = "shockBp: 50, baseRatePercent: 4, horizonYears: 10, paths: 100000"


def graphql(process: NexusProcess, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{process.url}/graphql",
        json={"query": query, "variables": variables},
        headers=router_headers(),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def start(process: NexusProcess, fields: str) -> str:
    data = graphql(process, f"mutation {{ startRateSimulation(input: {{ {fields} }}) {{ id }} }}")
    return str(data["startRateSimulation"]["id"])


def job(process: NexusProcess, job_id: str) -> dict[str, Any]:
    query = "query($id: ID!) { simulation(jobId: $id) { status error result { paths } } }"
    return dict(graphql(process, query, {"id": job_id})["simulation"])


def test_sigterm_finishes_or_hands_back_every_simulation_job(tmp_path: Path) -> None:
    server = NexusProcess(["subgraph", "macro", "--no-demo"], tmp_path, "macro", ENV)
    try:
        server.wait("/readyz")
        warm = start(server, SMALL)  # compiles the small job's engine call before the clock
        deadline = time.monotonic() + 120
        while job(server, warm)["status"] != "SUCCEEDED":
            assert time.monotonic() < deadline, job(server, warm)
            time.sleep(0.2)
        small = start(server, SMALL)  # at the head of the queue: finishes during the drain
        heavy = [start(server, HEAVY) for _ in range(4)]  # queued behind it: cannot
        stopping = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(60)
        assert time.monotonic() - stopping < DEADLINE_SECONDS + 20  # a batch may end its run
        assert server.process.returncode in (0, -signal.SIGTERM), server.process.returncode
    finally:
        server.stop()

    restarted = NexusProcess(
        ["subgraph", "macro", "--no-demo"], tmp_path, "macro", ENV, port=server.port
    )
    try:
        restarted.wait("/readyz")
        finished = {"status": "SUCCEEDED", "error": None, "result": {"paths": 2}}
        assert job(restarted, small) == finished
        states = [job(restarted, job_id) for job_id in heavy]
        assert {state["status"] for state in states} <= {"SUCCEEDED", "FAILED"}, states
        interrupted = [state for state in states if state["status"] == "FAILED"]
        assert interrupted, "every heavy job finished inside the deadline: nothing was tested"
        for state in interrupted:
            assert state["error"].startswith("Interrupted: the server shut down"), state
            assert state["result"] is None
    finally:
        restarted.stop()
