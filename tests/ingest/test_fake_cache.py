"""The fake servers' benchmark cache: a repeated request gets the bytes sent before, the fakes'
state moves the cache out of the way, scripted faults still come first, and without the flag
(the tests' fakes) every answer is built again."""

from __future__ import annotations

import httpx

from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK
from nexus.assembly.ingest.fakes import Latency, fake_servers

LOGS = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "eth_getLogs",
    "params": [{"fromBlock": hex(FIRST_BLOCK), "toBlock": hex(FIRST_BLOCK + 9)}],
}


def client(*, cache_responses: bool) -> httpx.AsyncClient:
    app = fake_servers(cache_responses=cache_responses)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake")


async def test_a_repeated_request_gets_the_same_answer_and_a_moved_chain_a_new_one() -> None:
    async with client(cache_responses=True) as fake:
        first = await fake.post("/ethereum/", json=LOGS)
        again = await fake.post("/ethereum/", json=LOGS)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content and len(first.json()["result"]) > 0
        await fake.post("/ethereum/_chain", json={"reorg": 200})  # every block replaced
        moved = await fake.post("/ethereum/", json=LOGS)
        assert moved.json()["result"] != first.json()["result"]


async def test_scripted_faults_still_come_before_a_cached_answer() -> None:
    async with client(cache_responses=True) as fake:
        assert (await fake.post("/ethereum/", json=LOGS)).status_code == 200
        await fake.post("/_faults", json={"path": "/ethereum/", "faults": ["503"]})
        assert (await fake.post("/ethereum/", json=LOGS)).status_code == 503
        assert (await fake.post("/ethereum/", json=LOGS)).status_code == 200


async def test_without_the_flag_binance_counts_the_weight_of_every_request() -> None:
    async with client(cache_responses=False) as fake:
        query = {"symbol": "BTCUSDT", "interval": "1d", "limit": "5"}
        weights = [
            (await fake.get("/binance/api/v3/klines", params=query)).headers["x-mbx-used-weight-1m"]
            for _ in range(2)
        ]
        assert int(weights[1]) == int(weights[0]) + 2


async def test_latency_delays_each_request_to_a_fake_api_but_not_the_control_paths() -> None:
    """`--latency-ms` (the benchmarks' remote round trip): every request to a fake API waits
    first and is then answered as without it; the fault layer's and the fakes' control paths
    answer at once."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    app = fake_servers()
    delayed = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Latency(app, 0.05, sleep)), base_url="http://fake"
    )
    plain = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake")
    async with delayed, plain:
        answer = await delayed.post("/ethereum/", json=LOGS)
        assert waits == [0.05]
        assert answer.content == (await plain.post("/ethereum/", json=LOGS)).content
        await delayed.get("/_faults")
        await delayed.get("/ethereum/_chain")
        assert waits == [0.05]
        await delayed.get("/binance/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1d"})
        assert waits == [0.05, 0.05]
    assert not isinstance(fake_servers(latency_seconds=0), Latency)
    assert isinstance(fake_servers(latency_seconds=0.02), Latency)
