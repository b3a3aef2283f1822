"""Simulation jobs of a `nexus subgraph macro` process killed with SIGKILL do not stay RUNNING.

The killed process saves nothing; its runner's lease in the store (NEXUS_SIMULATION_LEASE_SECONDS,
2 s here) expires. A process started on the same data directory, polled for the job, saves it as
FAILED with an error that says its worker was lost, and the client reads that.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.ops.test_shutdown_jobs import HEAVY, job, start
from tests.support.processes import NexusProcess

ENV = {
    "NEXUS_SIMULATION_LEASE_SECONDS": "2",
    "NEXUS_SIMULATION_WORKERS": "1",
    "NEXUS_SIMULATION_JOBS_PER_CALLER": "10",
    "NEXUS_REPLAY": "off",
}


def test_jobs_of_a_killed_process_end_failed_worker_lost(tmp_path: Path) -> None:
    server = NexusProcess(["subgraph", "macro", "--no-demo"], tmp_path, "macro", ENV)
    try:
        server.wait("/readyz")
        running = start(server, HEAVY)
        queued = start(server, HEAVY)  # behind it: one worker
        deadline = time.monotonic() + 120
        while job(server, running)["status"] != "RUNNING":
            assert time.monotonic() < deadline, job(server, running)
            time.sleep(0.1)
        assert job(server, queued)["status"] == "QUEUED"
        server.kill()
    finally:
        server.stop()

    restarted = NexusProcess(
        ["subgraph", "macro", "--no-demo"], tmp_path, "macro", ENV, port=server.port
    )
    try:
        restarted.wait("/readyz")
        for job_id in (running, queued):
            deadline = time.monotonic() + 60  # bounded: a few leases, not forever
            state = job(restarted, job_id)
            while state["status"] in ("QUEUED", "RUNNING"):
                assert time.monotonic() < deadline, state
                time.sleep(0.5)
                state = job(restarted, job_id)
            assert state["status"] == "FAILED", state
            assert state["error"].startswith("Worker lost: the server process"), state
            assert state["result"] is None
    finally:
        restarted.stop()
