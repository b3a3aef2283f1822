"""The fake servers' benchmark cache: a repeated request gets the bytes sent before, the fakes'
state moves the cache out of the way, scripted faults still come first, and without the flag
(the tests' fakes) every answer is built again."""

from __future__ import annotations

import httpx

from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK
from nexus.assembly.ingest.fakes import fake_servers

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
