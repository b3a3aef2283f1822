"""`/metrics`: what a Prometheus scrape shows after queries, and multiprocess aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from graph.gateway import create_app
from nexus import metrics
from tests.graph.support import router_over
from tests.graph.test_error_codes import SCHEMAS

PRICES = "query BondPrices { bonds { isin coupon } }"


Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Scrape:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: Scrape, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def test_a_scrape_after_queries_counts_them() -> None:
    router, _ = router_over(SCHEMAS)
    app = create_app(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        before = samples((await client.get("/metrics")).text)
        for _ in range(2):  # the second is planned from the cache
            response = await client.post("/graphql", json={"query": PRICES})
            assert "errors" not in response.json()
        await client.post("/graphql", json={"query": "{ bonds { duration } }"})
        await client.post("/graphql", json={"query": "query Broken { bonds { yield } }"})
        scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    after = samples(scrape.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("nexus_graphql_requests_total", operation="BondPrices", outcome="ok") == 2
    assert grew("nexus_graphql_requests_total", operation="anonymous", outcome="partial") == 1
    assert grew("nexus_graphql_requests_total", operation="Broken", outcome="rejected") == 1
    assert grew("nexus_graphql_request_duration_seconds_count", operation="BondPrices") == 2
    # Each BondPrices request fetches the listing, then the bonds' coupons from pricing.
    for subgraph in ("listing", "pricing"):
        assert (
            grew("nexus_subgraph_fetch_duration_seconds_count", subgraph=subgraph, outcome="ok")
            >= 2
        )
    assert (
        grew("nexus_subgraph_fetch_duration_seconds_count", subgraph="pricing", outcome="errors")
        == 1
    )
    assert grew("nexus_plan_cache_lookups_total", result="miss") == 2  # BondPrices, duration
    assert grew("nexus_plan_cache_lookups_total", result="hit") == 1


def test_operation_names_are_bounded() -> None:
    seen = set(metrics._operations)
    metrics._operations.clear()
    try:
        names = [f"Op{i}" for i in range(metrics.MAX_OPERATION_NAMES + 5)]
        labels = [metrics.operation_label(name) for name in names]
        assert labels[: metrics.MAX_OPERATION_NAMES] == names[: metrics.MAX_OPERATION_NAMES]
        assert set(labels[metrics.MAX_OPERATION_NAMES :]) == {"other"}
        assert metrics.operation_label("Op1") == "Op1"  # known names keep their label
        assert metrics.operation_label(None) == "anonymous"
        assert metrics.operation_label("x" * 65) == "other"
    finally:
        metrics._operations.clear()
        metrics._operations.update(seen)


WORKER = """
import sys
from nexus import metrics
metrics.REQUESTS.labels("Prices", "ok").inc()
metrics.OPEN_SUBSCRIPTIONS.inc(2)
with metrics.timed_engine("vasicek_paths"):
    pass
print("done", flush=True)
sys.stdin.read()  # stay alive until told to exit
"""

SCRAPE = """
from nexus import metrics
print(metrics.exposition()[0].decode())
"""


def test_several_worker_processes_share_one_exposition(tmp_path: Path) -> None:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "done"
        scrape = samples(
            subprocess.run(
                [sys.executable, "-c", SCRAPE],
                env=environment,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    finally:
        for worker in workers:
            worker.communicate("", timeout=30)
    assert value(scrape, "nexus_graphql_requests_total", operation="Prices", outcome="ok") == 2
    assert value(scrape, "nexus_subscriptions_open") == 4  # livesum over the live workers
    assert value(scrape, "nexus_engine_call_duration_seconds_count", function="vasicek_paths") == 2
