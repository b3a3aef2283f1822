"""Operation batching: array bodies answered by arrays, off by default, bounded, and each
operation through the same edge checks as a single request."""

from __future__ import annotations

import httpx
import pytest

from graph.edge.batching import BatchingConfigError, BatchSettings
from graph.gateway import create_app
from graph.limits import RequestLimits
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS

ON = BatchSettings(enabled=True, max_operations=3)


def client(batching: BatchSettings | None) -> httpx.AsyncClient:
    router, _ = router_over(SCHEMAS, RequestLimits(max_depth=3))
    app = create_app(router, rest=False, batching=batching)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus")


async def test_a_batch_is_answered_in_order_each_operation_checked_alone() -> None:
    batch = [
        {"query": "query Me { me { name } }", "operationName": "Me"},
        {"query": "query($n: Int) { topProducts(first: $n) { upc } }", "variables": {"n": 1}},
        {"query": "{ topProducts { reviews { author { name } } } }"},  # depth 4 > 3
    ]
    async with client(ON) as http:
        response = await http.post("/graphql", json=batch)
        invalid = await http.post("/graphql", json=[{"variables": {}}, "me"])
    assert response.status_code == 200
    answers = response.json()
    assert answers[0] == {"data": {"me": {"name": "Ada Lovelace"}}}
    assert answers[1] == {"data": {"topProducts": [{"upc": "1"}]}}
    assert answers[2]["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"
    assert "data" not in answers[2]
    assert [a["errors"][0]["extensions"]["code"] for a in invalid.json()] == [
        "BAD_REQUEST",
        "BAD_REQUEST",
    ]


async def test_batches_are_off_by_default_and_bounded() -> None:
    one = {"query": "{ me { name } }"}
    async with client(None) as http:
        off = await http.post("/graphql", json=[one])
    assert off.status_code == 400
    assert "NEXUS_BATCHING=on" in off.json()["errors"][0]["message"]
    async with client(ON) as http:
        too_many = await http.post("/graphql", json=[one] * 4)
        empty = await http.post("/graphql", json=[])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["message"] == (
        "The batch holds 4 operations; the limit is 3. Send fewer per request."
    )
    assert empty.status_code == 400


def test_settings_from_env() -> None:
    assert BatchSettings.from_env({}) == BatchSettings(enabled=False, max_operations=10)
    assert BatchSettings.from_env(
        {"NEXUS_BATCHING": "on", "NEXUS_BATCH_MAX_OPERATIONS": "25"}
    ) == BatchSettings(enabled=True, max_operations=25)
    with pytest.raises(BatchingConfigError, match="NEXUS_BATCH_MAX_OPERATIONS"):
        BatchSettings.from_env({"NEXUS_BATCH_MAX_OPERATIONS": "0"})
