"""The router benchmark's data floor (`benchmarks.router.data_floor_answer`): the least data
work a gateway does for the benchmark query must give the router's own answer, or its figure
would be the floor of some other, cheaper job."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from benchmarks.router import _floor_plan, data_floor_answer
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS, SHOP_QUERY


@pytest.mark.parametrize("first", [3, 1, 0])
async def test_the_data_floor_answers_what_the_router_answers(first: int) -> None:
    _, data_plan, client, _ = await _floor_plan()
    sent: list[tuple[str, dict[str, Any]]] = []
    answers: list[tuple[Any, bytes]] = []  # each answer as handed over, and its encoding then

    async def fetch(service: str, body: bytes) -> Any:
        sent.append((service, orjson.loads(body)))
        request = orjson.loads(body)  # (Strawberry takes `__typename` out of representations)
        result = await SCHEMAS[service].execute(
            request["query"], variable_values=request.get("variables")
        )
        assert not result.errors, result.errors
        answer = {"data": result.data}
        answers.append((answer, orjson.dumps(answer)))
        return answer

    router, transport = router_over(SCHEMAS)
    expected = await router.execute(SHOP_QUERY, {"first": first})
    answer = orjson.loads(await data_floor_answer(data_plan, client, {"first": first}, fetch))
    assert answer == expected
    # The answers, which the benchmark shares between identical requests, are left as they came.
    assert all(orjson.dumps(given) == encoded for given, encoded in answers)
    assert list(answer["data"]) == ["topProducts", "me"]  # the client's order, its fields only
    if first:
        assert set(answer["data"]["topProducts"][0]) == {
            "name", "inStock", "shippingEstimate", "reviews"
        }  # fmt: skip
    # The same subgraph requests as the router's (entity fetches skipped when nothing needs
    # them), representations deduplicated as it sends them.
    key = lambda request: (request[0], request[1], orjson.dumps(request[2]))  # noqa: E731
    router_requests = sorted(map(key, transport.requests))
    floor_requests = sorted(
        key((service, request["query"], request.get("variables"))) for service, request in sent
    )
    assert floor_requests == router_requests
