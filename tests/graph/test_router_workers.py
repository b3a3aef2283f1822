"""`nexus router --workers N`: N forked processes answer on one port and stop together."""

from __future__ import annotations

from pathlib import Path

import httpx

from graph.in_process import compose_schemas
from tests.graph.test_entities import SCHEMAS
from tests.support.processes import NexusProcess


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def test_workers_share_the_port_and_stop_with_the_parent(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(compose_schemas(SCHEMAS))  # subgraphs unreachable: `__typename` only
    router = NexusProcess(
        ["router", "--supergraph", str(supergraph), "--workers", "2"], tmp_path / "router"
    )
    try:
        router.wait("/healthz", 90)
        workers = _children(router.process.pid)
        assert len(workers) == 2
        for _ in range(10):  # a new connection each time: the kernel hands them to either worker
            answer = httpx.post(f"{router.url}/graphql", json={"query": "{ __typename }"})
            assert answer.json()["data"] == {"__typename": "Query"}
    finally:
        router.stop()
    assert router.process.returncode is not None
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
