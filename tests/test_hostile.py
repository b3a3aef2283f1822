"""A hostile client against real `nexus serve` and `nexus subgraph macro` processes (loopback).

Each case replays a request that once stalled, exhausted or crashed the server, asserts what
the client sees (a refusal with a clear code, or the answer) and measures `/healthz` beside it:
its p99 must stay under 100 ms (scaled by the load per core on a shared machine, see
`HealthProbe.bound_ms`). Every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support.hostile import HealthProbe
from tests.support.processes import NexusProcess, router_headers

SERVE_ENV = {
    "NEXUS_BODY_TIMEOUT_SECONDS": "2",
    "NEXUS_HEADER_TIMEOUT_SECONDS": "2",
    "NEXUS_KEEP_ALIVE_SECONDS": "2",
    "NEXUS_MAX_CONNECTIONS": "40",
    "NEXUS_MAX_RESPONSE_BYTES": "400000",
    "NEXUS_WS_MAX_OPERATIONS": "20",
    "NEXUS_REPLAY": "off",
    # The limits behind the edge: demand control (its own tests in tests/graph/test_edge_demand.py)
    # would refuse several of these requests on cost, and spend the anonymous budget, first.
    "NEXUS_DEMAND_CONTROL": "measure",
}


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[NexusProcess]:
    directory = tmp_path_factory.mktemp("hostile-serve")
    server = NexusProcess(["serve"], directory, env=SERVE_ENV, seed=demo_seed)
    server.wait()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def macro(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NexusProcess]:
    server = NexusProcess(
        ["subgraph", "macro"], tmp_path_factory.mktemp("hostile-macro"), name="macro"
    )
    server.wait()
    yield server
    server.stop()


def post(
    server: NexusProcess,
    query: str,
    variables: dict[str, Any] | None = None,
    path: str = "/graphql",
) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    # A standalone subgraph serves only the router: sign as the router does.
    headers = router_headers() if server.name == "macro" else None
    response = httpx.post(
        server.url + path,
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=60,
    )
    return response, time.perf_counter() - started


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def assert_responsive(probe: HealthProbe) -> None:
    bound = probe.bound_ms
    print(
        f"[{os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]}] {probe} (bound {bound:.0f})"
    )
    assert probe.failures == 0, str(probe)
    assert probe.p99_ms < bound, f"{probe}; bound {bound:.0f} ms"


# --- subgraph endpoints ---------------------------------------------------------------------


def test_serve_keeps_the_subgraph_endpoints_internal(serve: NexusProcess) -> None:
    response, _ = post(serve, "{ _service { sdl } }", path="/subgraphs/macro/graphql")
    assert response.status_code == 404
    assert post(serve, "{ allSeries { id } }")[0].json()["data"]["allSeries"]


def test_a_subgraph_refuses_5000_representations_at_once(macro: NexusProcess) -> None:
    representations = [{"__typename": "Series", "id": "DGS10"}] * 5000
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Series { title } } }"
    with HealthProbe(macro.port) as probe:
        response, seconds = post(macro, query, {"r": representations})
    assert response.status_code == 200
    assert codes(response) == ["MAX_REPRESENTATIONS_EXCEEDED"]
    assert "1,000" in response.json()["errors"][0]["message"]
    assert seconds < 5, seconds  # refused, not run
    assert_responsive(probe)
    small, _ = post(macro, query, {"r": representations[:3]})
    assert small.json()["data"]["_entities"][0]["title"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "{ " + " ".join(f"a{n}: allSeries {{ id }}" for n in range(2500)) + " }",
            "MAX_ALIASES_EXCEEDED",
        ),
        ("{ allSeries { " + "id " * 70_000 + "} }", "MAX_DOCUMENT_SIZE_EXCEEDED"),
        ("{ _service { sdl } }", "FORBIDDEN"),
    ],
    ids=["2500-aliases", "200kb-document", "service-sdl"],
)
def test_a_subgraph_applies_its_own_limits(macro: NexusProcess, query: str, code: str) -> None:
    with HealthProbe(macro.port) as probe:
        response, _ = post(macro, query)
    assert codes(response) == [code]
    assert response.json().get("data") is None
    assert_responsive(probe)


def test_a_subgraph_refuses_deep_documents_and_invalid_utf8(macro: NexusProcess) -> None:
    deep = "{ " + "allSeries { " * 40 + "id" + " }" * 40 + " }"
    assert codes(post(macro, deep)[0]) == ["MAX_DEPTH_EXCEEDED"]
    bad = httpx.post(
        macro.url + "/graphql",
        content=b'{"query": "{ allSeries { id } }", "variables": {"x": "\xff\xfe"}}',
        headers={"content-type": "application/json", **router_headers()},
    )
    assert bad.status_code == 400


# --- limits on the operation as executed ---------------------------------------------------


def doubling_fragments(levels: int) -> str:
    """F0 has one aliased field; each Fn spreads Fn-1 twice: 2^levels aliases when executed."""
    fragments = ["fragment F0 on Series { a: id }"]
    for n in range(1, levels + 1):
        fragments.append(f"fragment F{n} on Series {{ ...F{n - 1} ...F{n - 1} }}")
    return f"{{ allSeries {{ ...F{levels} }} }} " + " ".join(fragments)


def test_fragments_count_each_time_they_are_spread(serve: NexusProcess) -> None:
    with HealthProbe(serve.port) as probe:
        six, _ = post(serve, doubling_fragments(6))  # 64 aliases, over the limit of 30
        sixty, seconds = post(serve, doubling_fragments(60))  # 2^60: counted, not expanded
    assert codes(six) == ["MAX_ALIASES_EXCEEDED"]
    assert "64 aliases" in six.json()["errors"][0]["message"]
    assert codes(sixty) == ["MAX_ALIASES_EXCEEDED"]
    assert "about 10^18" in sixty.json()["errors"][0]["message"]
    assert seconds < 5
    assert_responsive(probe)
    assert "errors" not in post(serve, doubling_fragments(4))[0].json()  # 16 aliases: fine


def test_nested_list_fan_out_is_refused(serve: NexusProcess) -> None:
    query = "{ posts(limit: 100) { similar(limit: 100) { similar(limit: 10) { id } } } }"
    with HealthProbe(serve.port) as probe:
        response, seconds = post(serve, query)
    assert codes(response) == ["MAX_LIST_FAN_OUT_EXCEEDED"]
    assert "110,100" in response.json()["errors"][0]["message"]
    assert seconds < 5
    assert_responsive(probe)


EVERY_OBSERVATION = (
    '{ allSeries { observations(from: "1980-01-01", to: "2025-12-31") { date value } } }'
)


@pytest.mark.parametrize(
    ("aliases", "code"), [(1, "BAD_USER_INPUT"), (20, "MAX_LIST_FAN_OUT_EXCEEDED")]
)
def test_every_observation_since_1980_is_refused_quickly(
    serve: NexusProcess, aliases: int, code: str
) -> None:
    """One alias runs and meets the per-request observation cap; twenty are refused before
    they run, as all series' observations are a known-size fan-out (60 x 250 each)."""
    selection = 'observations(from: "1980-01-01", to: "2025-12-31") { date value }'
    query = "{ " + " ".join(f"a{n}: allSeries {{ {selection} }}" for n in range(aliases)) + " }"
    with HealthProbe(serve.port) as probe:
        response, seconds = post(serve, query)
    assert codes(response)[0] == code
    if code == "BAD_USER_INPUT":
        assert "more than 20,000 observations" in response.json()["errors"][0]["message"]
    assert seconds < 10
    assert_responsive(probe)


def test_a_long_history_is_served_while_others_are(serve: NexusProcess) -> None:
    query = (
        '{ series(id: "DGS10") { observations(from: "1995-01-01", to: "2025-12-31") { value } } }'
    )
    with HealthProbe(serve.port) as probe:
        response, _ = post(serve, query)
    observations = response.json()["data"]["series"]["observations"]
    assert len(observations) > 7000
    assert_responsive(probe)


def test_a_response_over_the_size_limit_is_refused_clearly(serve: NexusProcess) -> None:
    selection = 'observations(from: "1990-01-01", to: "2025-12-31") { date value }'
    query = (
        f'{{ a: series(id: "DGS10") {{ {selection} }} b: series(id: "DGS2") {{ {selection} }} }}'
    )
    with HealthProbe(serve.port) as probe:
        response, _ = post(serve, query)
    assert codes(response) == ["RESPONSE_TOO_LARGE"]
    assert "the limit is 400,000" in response.json()["errors"][0]["message"]
    # The subgraph builds these 18,000 observations before the router measures the answer:
    # their rows become records in a thread and are completed in slices, so others are served.
    assert_responsive(probe)


def test_a_large_document_is_refused_before_validation(serve: NexusProcess) -> None:
    query = "{ " + " ".join(f"a{n}: allSeries {{ id title }}" for n in range(2000)) + " }"
    assert 50_000 < len(query) < 64 * 1024  # large, yet under the document size limit
    with HealthProbe(serve.port) as probe:
        response, seconds = post(serve, query)
    assert codes(response) == ["MAX_ROOT_FIELDS_EXCEEDED"], response.text[:300]
    assert seconds < 5
    assert_responsive(probe)


# --- input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ allSeries { id } }", "variables": {"v": "\\ud800"}}',
        b'{"query": "query($v: ID!) { series(id: $v) { id } }", "variables": {"v": "a\\u0000b"}}',
        b'{"query": "{ series(id: \\"DGS\\\\u0000\\") { id } }"}',
        b'{"query": "{ series(id: \\"\\ud800\\") { id } }"}',
        b'{"query": "query($v: ID!) { series(id: $v) { id } }", "variables": {"v": "a\\u0007"}}',
    ],
    ids=["surrogate-variable", "nul-variable", "nul-escape-literal", "surrogate-query", "bell"],
)
def test_control_characters_and_lone_surrogates_are_bad_user_input(
    serve: NexusProcess, body: bytes
) -> None:
    response = httpx.post(
        serve.url + "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert codes(response) == ["BAD_USER_INPUT"]


def test_deeply_nested_json_is_a_400_not_a_500(serve: NexusProcess) -> None:
    for depth in (40, 100_000):
        body = b'{"query": "{ allSeries { id } }", "variables": {"v": ' + b"[" * depth
        body += b"]" * depth + b"}}"
        response = httpx.post(
            serve.url + "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, depth
        assert codes(response) == ["BAD_REQUEST"]
    invalid = httpx.post(
        serve.url + "/graphql",
        content=b'{"query": "{ allSeries { id } }\xff"}',
        headers={"content-type": "application/json"},
    )
    assert invalid.status_code == 400


# --- HTTP ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(serve: NexusProcess) -> None:
    declared = httpx.post(
        serve.url + "/graphql",
        content=b" " * (2 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b" " * 32_768

    streamed = httpx.post(
        serve.url + "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_a_trickling_body_times_out(serve: NexusProcess) -> None:
    connection = raw(serve.port)
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: 1000\r\n\r\n{"
    )
    connection.sendall(head)
    started = time.monotonic()
    reply = connection.recv(4096)
    connection.close()
    assert reply.startswith(b"HTTP/1.1 408"), reply[:60]
    assert time.monotonic() - started < 8


def test_slow_headers_and_idle_keep_alive_connections_are_closed(serve: NexusProcess) -> None:
    slow = raw(serve.port)
    slow.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest of the headers
    idle = raw(serve.port)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
    reply = b""
    while not reply.endswith(b'"ok"}'):
        reply += idle.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    assert slow.recv(4096) == b""  # closed by the server
    assert idle.recv(4096) == b""
    assert time.monotonic() - started < 8
    slow.close()
    idle.close()


def test_connections_past_the_cap_get_503_and_the_cap_frees_up(serve: NexusProcess) -> None:
    held = [raw(serve.port) for _ in range(45)]
    try:
        refused = httpx.get(serve.url + "/healthz", timeout=10)
        assert refused.status_code == 503
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.5)
    assert httpx.get(serve.url + "/healthz", timeout=10).status_code == 200


def test_the_access_log_never_holds_a_query_string(serve: NexusProcess) -> None:
    secret = "hunter2-secret-password"
    variables = json.dumps({"password": secret})
    response = httpx.get(
        serve.url + "/graphql",
        params={"query": "{ allSeries { id } }", "variables": variables},
    )
    assert response.status_code == 200
    time.sleep(0.3)
    log = serve.log.read_text()
    assert "GET /graphql" in log
    assert secret not in log
    assert "allSeries" not in log


# --- subscriptions -------------------------------------------------------------------------


def test_10000_subscribes_on_one_socket_are_capped_and_others_are_served(
    serve: NexusProcess,
) -> None:
    async def flood() -> tuple[int, int, float]:
        url = f"ws://127.0.0.1:{serve.port}/graphql"
        subscription = (
            '{"query": "subscription { marketUpdates(symbols: [\\"BTC\\"]) { symbol } }"}'
        )
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket_:
            await socket_.send('{"type": "connection_init"}')
            assert json.loads(await socket_.recv())["type"] == "connection_ack"

            async def read() -> int:
                refused = 0
                deadline = time.monotonic() + 60
                while refused < 10_000 - 20 and time.monotonic() < deadline:
                    message = json.loads(await asyncio.wait_for(socket_.recv(), 30))
                    if message["type"] == "error":
                        error = message["payload"][0]["extensions"]["code"]
                        # The connection's cap (20 here), or the caller's plan's cap on
                        # concurrent subscriptions (the edge), whichever comes first.
                        assert error in ("TOO_MANY_SUBSCRIPTIONS", "RATE_LIMITED")
                        refused += 1
                return refused

            reader = asyncio.create_task(read())
            for n in range(10_000):
                await socket_.send(f'{{"type":"subscribe","id":"{n}","payload":{subscription}}}')
            refused = await reader
            started = time.perf_counter()
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as other:
                await other.send('{"type": "connection_init"}')
                ack = json.loads(await asyncio.wait_for(other.recv(), 10))["type"]
            handshake = time.perf_counter() - started
            return refused, int(ack == "connection_ack"), handshake

    with HealthProbe(serve.port) as probe:
        refused, acked, handshake = asyncio.run(flood())
    assert refused >= 10_000 - 20
    assert acked == 1
    assert handshake < 5
    assert_responsive(probe)


# --- simulation jobs -------------------------------------------------------------------------


def start_simulation(serve: NexusProcess, fields: str) -> httpx.Response:
    return post(
        serve,
        f"mutation {{ startRateSimulation(input: {{ {fields} }}) {{ id status }} }}",
    )[0]


def finished(serve: NexusProcess, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = post(
            serve,
            "query($id: ID!) { simulation(jobId: $id) { status error result { paths } } }",
            {"id": job_id},
        )[0].json()["data"]["simulation"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.parametrize("paths", [2, 3])
def test_the_smallest_path_counts_work(serve: NexusProcess, paths: int) -> None:
    response = start_simulation(serve, f"shockBp: 50, horizonYears: 1, paths: {paths}")
    job = finished(serve, response.json()["data"]["startRateSimulation"]["id"])
    assert job["status"] == "SUCCEEDED", job
    assert job["result"]["paths"] == 2


def test_absurd_rates_are_refused(serve: NexusProcess) -> None:
    response = start_simulation(serve, "shockBp: 50, baseRatePercent: 1e300")
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "baseRatePercent" in response.json()["errors"][0]["message"]


def test_a_caller_may_hold_two_jobs_at_once(serve: NexusProcess) -> None:
    heavy = "shockBp: 50, horizonYears: 10, paths: 100000"
    first = start_simulation(serve, heavy)
    second = start_simulation(serve, heavy)
    third = start_simulation(serve, heavy)
    assert "errors" not in first.json() and "errors" not in second.json()
    assert codes(third) == ["TOO_MANY_JOBS"]
    for response in (first, second):
        finished(serve, response.json()["data"]["startRateSimulation"]["id"])
    fourth = start_simulation(serve, "shockBp: 50, horizonYears: 1, paths: 2")
    assert "errors" not in fourth.json()
