"""Acceptance: the four subgraphs as separate processes behind `nexus router --supergraph FILE`
answer the cross-subgraph query with the demo data, as the in-process router does."""

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nexus.assembly.registry import SUBGRAPH_NAMES
from nexus.assembly.schema_export import supergraph
from tests.graph.interop.npm import node_modules
from tests.graph.interop.servers import hive_gateway
from tests.support.processes import NexusProcess

CROSS_SUBGRAPH_QUERY = """
{
  publicWatchlists {
    items {
      key
      instrument {
        __typename
        ... on Token { latestPrice { close } }
        ... on Stock { candles(from: "2021-01-27", to: "2021-01-27") { close } }
        ... on Series { latest { value } }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def processes(
    tmp_path_factory: pytest.TempPathFactory, demo_seed: Path
) -> Iterator[dict[str, NexusProcess]]:
    root = tmp_path_factory.mktemp("processes")
    started: dict[str, NexusProcess] = {}
    try:
        for name in SUBGRAPH_NAMES:
            # Public: Hive Gateway calls them too, and cannot sign as our router does.
            public = {"NEXUS_SUBGRAPHS_PUBLIC": "on"}
            started[name] = NexusProcess(
                ["subgraph", name], root / name, name, public, seed=demo_seed
            )
        for process in started.values():
            process.wait("/readyz")
        urls = {name: f"{process.url}/graphql" for name, process in started.items()}
        supergraph_file = root / "supergraph.graphql"
        supergraph_file.write_text(supergraph(urls))
        arguments = ["router", "--supergraph", str(supergraph_file)]
        # Measure, not enforce: the module's queries, all anonymous from one address, add up
        # to more than the anonymous plan's 1,000 cost units a minute.
        measure = {"NEXUS_DEMAND_CONTROL": "measure"}
        started["router"] = NexusProcess(arguments, root / "router", "router", measure)
        started["router"].wait("/readyz")
        yield started
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture
def router_url(processes: dict[str, NexusProcess]) -> str:
    return f"{processes['router'].url}/graphql"


def test_cross_subgraph_query_through_nexus_router(router_url: str) -> None:
    response = httpx.post(router_url, json={"query": CROSS_SUBGRAPH_QUERY}, timeout=60).json()
    assert "errors" not in response
    items = response["data"]["publicWatchlists"][0]["items"]
    by_key = {item["key"]: item["instrument"] for item in items}
    assert by_key["BTC"] == {"__typename": "Token", "latestPrice": {"close": 17003.017578}}
    assert by_key["GME"] == {"__typename": "Stock", "candles": [{"close": 86.877502}]}
    assert by_key["WALCL"] == {"__typename": "Series", "latest": {"value": 6581231.0}}


def test_bad_query_is_a_spec_error_through_nexus_router(router_url: str) -> None:
    bad = httpx.post(router_url, json={"query": "{ nope }"}, timeout=60).json()
    assert bad["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


OPERATIONS = [
    CROSS_SUBGRAPH_QUERY,
    '{ token(symbol: "BTC") { name } stock(symbol: "GME") { name } }',
    '{ series(id: "DGS10") { observations(from: "2024-12-30", to: "2024-12-31") { date value } } }',
]


@pytest.fixture(scope="module", params=["gateway-runtime", "hive-router-runtime"])
def hive_url(
    request: pytest.FixtureRequest,
    processes: dict[str, NexusProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    modules = node_modules()
    log = tmp_path_factory.mktemp("hive") / "hive.log"
    supergraph_file = processes["router"].log.parents[1] / "supergraph.graphql"  # what it serves
    router_runtime = request.param == "hive-router-runtime"
    with hive_gateway(modules, supergraph_file, log, router_runtime=router_runtime) as url:
        yield url


@pytest.mark.parametrize("query", OPERATIONS)
def test_hive_gateway_over_our_subgraphs_returns_what_our_router_returns(
    router_url: str, hive_url: str, query: str
) -> None:
    ours = httpx.post(router_url, json={"query": query}, timeout=60).json()
    hive = httpx.post(hive_url, json={"query": query}, timeout=60).json()
    assert "errors" not in ours
    ours.pop("extensions", None)  # our edge reports the operation's cost there
    assert ours == hive


def test_a_subgraph_down_only_nulls_the_fields_it_owns(
    router_url: str, processes: dict[str, NexusProcess]
) -> None:
    processes["macro"].stop()  # the last test of the module: macro stays down
    response = httpx.post(router_url, json={"query": CROSS_SUBGRAPH_QUERY}, timeout=60).json()
    items = response["data"]["publicWatchlists"][0]["items"]
    by_key = {item["key"]: item["instrument"] for item in items}
    assert by_key["BTC"] == {"__typename": "Token", "latestPrice": {"close": 17003.017578}}
    assert by_key["WALCL"] == {"__typename": "Series", "latest": None}
    assert {e["extensions"]["code"] for e in response["errors"]} == {"SUBGRAPH_UNAVAILABLE"}
    assert {e["extensions"]["serviceName"] for e in response["errors"]} == {"macro"}


def test_operations_served_by_nexus_router_are_metered_into_its_embedded_store(
    processes: dict[str, NexusProcess],
) -> None:
    """`nexus router` on the embedded default migrates its platform store at start, so each
    operation's usage row is written (within the meter's 1 s interval)."""
    router = processes["router"]
    query = 'query MeteredByTheRouter { token(symbol: "BTC") { name } }'
    answer = httpx.post(f"{router.url}/graphql", json={"query": query}, timeout=60).json()
    assert answer["data"] == {"token": {"name": "Bitcoin"}} and "errors" not in answer
    cost = answer["extensions"]["cost"]  # demand control measures (the module's setting)
    database = router.log.parent / "platform.db"
    rows: list[tuple[str, str, int, int]] = []
    deadline = time.monotonic() + 15
    while not rows and time.monotonic() < deadline:
        time.sleep(0.2)
        with contextlib.closing(sqlite3.connect(database)) as db:
            rows = db.execute(
                "SELECT caller_kind, status, estimated_cost, actual_cost FROM usage_events"
                " WHERE operation_name = ?",
                ("MeteredByTheRouter",),
            ).fetchall()
    assert rows == [("anonymous", "ok", cost["estimated"], cost["actual"])]
    assert "usage write failed" not in router.log.read_text()
