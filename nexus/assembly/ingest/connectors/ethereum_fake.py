"""A fake Ethereum node: JSON-RPC answers in the execution API's format over a small synthetic
chain of USDT/WETH transfers and Uniswap v2/v3 events of the default address book.

- `eth_blockNumber`, `eth_getBlockByNumber` (a number or "latest"; null past the head) and
  `eth_getLogs` (address and topic filters as a node applies them), as geth answers them.
- A query over more than `max_range` blocks or matching more than `max_logs` logs answers
  JSON-RPC error -32005 ("query returned more than 10000 results"), as Infura does.
- `eth_call` of `symbol()` / `decimals()` answers for the default book's tokens (others revert).
- An unknown method answers -32601; a body that is not JSON-RPC, -32700 / -32600.
- `POST /_chain` steers the chain: {"head": N} or {"advance": K} moves the head; {"reorg": D}
  replaces the last D blocks with other ones (other hashes, other logs): a reorganisation;
  {"corrupt": [N, ...]} cuts the `data` of those blocks' first log short (a malformed log).
  `GET /_chain` tells the head and the forked blocks.
Faults of the transport (429, 5xx, truncated bodies, timeouts) come from the fake servers'
fault layer (nexus.assembly.ingest.fakes).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nexus.assembly.ingest.connectors.address_book import DEFAULT
from nexus.assembly.ingest.connectors.evm_logs import (
    TRANSFER,
    V2_SWAP,
    V2_SYNC,
    V3_MINT,
    V3_SWAP,
)

FIRST_BLOCK = 19_000_000
GENESIS_TIME = 1_704_067_200  # 2024-01-01T00:00:00Z
SECONDS_PER_BLOCK = 12
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
WETH_USDT_V2 = "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852"
USDC_WETH_V3 = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
BINANCE = "0x28c6c06298d514db089934071355e5743bf21d60"
WHALE = "0x00000000219ab540356cbb839cbe05303d7705fa"
WALLETS = tuple(f"0x{(0xA11CE0 + i):040x}" for i in range(5))


def word(value: int) -> str:
    """One ABI word: 32 bytes, two's complement for negative values."""
    return f"{value % (1 << 256):064x}"


def topic(value: int | str) -> str:
    if isinstance(value, str):  # an address
        return "0x" + value[2:].rjust(64, "0")
    return "0x" + word(value)


def _digest(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


class FakeChain:
    def __init__(self, *, head: int = FIRST_BLOCK + 199, max_range: int = 5000,
                 max_logs: int = 10_000) -> None:
        self.head = head
        self.max_range = max_range
        self.max_logs = max_logs
        self.forks: dict[int, int] = {}  # block number -> fork generation (0: the original)
        self.corrupt: set[int] = set()  # blocks whose first log has a cut-short `data`

    def block_hash(self, number: int) -> str:
        return _digest(f"block:{number}:{self.forks.get(number, 0)}")

    def block(self, number: int) -> dict[str, Any] | None:
        if not FIRST_BLOCK <= number <= self.head:
            return None
        parent = self.block_hash(number - 1) if number > FIRST_BLOCK else "0x" + "0" * 64
        return {
            "number": hex(number), "hash": self.block_hash(number), "parentHash": parent,
            "timestamp": hex(GENESIS_TIME + (number - FIRST_BLOCK) * SECONDS_PER_BLOCK),
            "miner": "0x" + "0" * 40, "transactions": [],
        }

    def logs(self, number: int) -> list[dict[str, Any]]:
        """The block's logs: deterministic from its number and fork generation."""
        fork = self.forks.get(number, 0)
        i = number - FIRST_BLOCK
        scale = 1 + fork  # a forked block moves other amounts
        events: list[tuple[str, list[str], str]] = []
        if i % 2 == fork % 2:
            sender, recipient = WALLETS[i % 5], WALLETS[(i + 1) % 5]
            events.append((USDT, [TRANSFER, topic(sender), topic(recipient)],
                           word(((i % 97) + 1) * 1000 * scale * 10**6)))
        if i % 10 == 0:
            events.append((USDT, [TRANSFER, topic(WHALE), topic(BINANCE)],
                           word(2_500_000 * scale * 10**6)))
        if i % 25 == 5:
            events.append((USDT, [TRANSFER, topic(BINANCE), topic(WHALE)],
                           word(1_200_000 * 10**6)))
        if i % 5 == 1:
            events.append((WETH, [TRANSFER, topic(WALLETS[2]), topic(BINANCE)],
                           word((10 + i % 7) * 10**18)))
        if i % 3 == 0:
            reserve_weth = (10_000 + i % 50) * 10**18
            reserve_usdt = (23_000_000 + 10 * i) * scale * 10**6
            events.append((WETH_USDT_V2, [V2_SWAP, topic(WALLETS[0]), topic(WALLETS[1])],
                           word(10**18) + word(0) + word(0) + word(2300 * 10**6)))
            events.append((WETH_USDT_V2, [V2_SYNC], word(reserve_weth) + word(reserve_usdt)))
        if i % 4 == 0:
            price = 1 / (2300 + i % 40) * 10**12  # WETH (18) per USDC (6), raw units
            sqrt_x96 = int(math.sqrt(price) * 2**96)
            tick = math.floor(math.log(price) / math.log(1.0001))
            events.append((USDC_WETH_V3, [V3_SWAP, topic(WALLETS[3]), topic(WALLETS[3])],
                           word(-5000 * 10**6) + word(2 * 10**18) + word(sqrt_x96)
                           + word(3 * 10**18 * scale) + word(tick)))
        if i % 50 == 1:
            events.append((USDC_WETH_V3, [V3_MINT, topic(WALLETS[4]), topic(195_000),
                                          topic(202_000)],
                           word(int(WALLETS[4], 16)) + word(10**17) + word(10**10)
                           + word(10**18)))
        if number in self.corrupt and events:
            address, topics, data = events[0]
            events[0] = (address, topics, data[:10])
        block_hash = self.block_hash(number)
        return [
            {
                "address": address, "topics": topics, "data": "0x" + data,
                "blockNumber": hex(number), "blockHash": block_hash,
                "blockTimestamp": hex(GENESIS_TIME + (number - FIRST_BLOCK) * SECONDS_PER_BLOCK),
                "transactionHash": _digest(f"tx:{number}:{index}:{fork}"),
                "transactionIndex": hex(index), "logIndex": hex(index), "removed": False,
            }
            for index, (address, topics, data) in enumerate(events)
        ]

    def get_logs(self, query: dict[str, Any]) -> list[dict[str, Any]] | dict[str, Any]:
        first = self._number(query.get("fromBlock", "latest"))
        last = min(self._number(query.get("toBlock", "latest")), self.head)
        if last - first + 1 > self.max_range:
            return _limit_exceeded(first, last)
        addresses = query.get("address")
        wanted = {a.lower() for a in ([addresses] if isinstance(addresses, str) else addresses
                                      or [])}
        topics = (query.get("topics") or [None])[0]
        signatures = {topics} if isinstance(topics, str) else set(topics or [])
        found = []
        for number in range(max(first, FIRST_BLOCK), last + 1):
            for entry in self.logs(number):
                if wanted and entry["address"] not in wanted:
                    continue
                if signatures and entry["topics"][0] not in signatures:
                    continue
                found.append(entry)
                if len(found) > self.max_logs:
                    return _limit_exceeded(first, last)
        return found

    def _number(self, tag: Any) -> int:
        if tag in ("latest", "safe", "finalized", None):
            return self.head
        if tag == "earliest":
            return FIRST_BLOCK
        return int(str(tag), 16)

    def reorg(self, depth: int) -> None:
        for number in range(self.head - depth + 1, self.head + 1):
            self.forks[number] = self.forks.get(number, 0) + 1


def _limit_exceeded(first: int, last: int) -> dict[str, Any]:
    middle = (first + last) // 2
    return {"code": -32005, "message": "query returned more than 10000 results. Try with this "
            f"block range [{hex(first)}, {hex(middle)}].",
            "data": {"from": hex(first), "to": hex(middle)}}


def _token_call(call: Any) -> dict[str, Any]:
    """`eth_call` of ERC-20 `symbol()` / `decimals()` on the default book's tokens, as a node
    answers them (an ABI string; one word); a contract without them reverts."""
    token = DEFAULT["tokens"].get(str(call.get("to", "")).lower()) if isinstance(call, dict) \
        else None
    data = str(call.get("data", ""))[:10] if isinstance(call, dict) else ""
    if token is not None and data == "0x95d89b41":
        text = token["symbol"].encode()
        return {"result": "0x" + word(32) + word(len(text)) + text.hex().ljust(64, "0")}
    if token is not None and data == "0x313ce567":
        return {"result": "0x" + word(int(token["decimals"]))}
    return {"error": {"code": 3, "message": "execution reverted"}}


def ethereum_fake(chain: FakeChain | None = None) -> Starlette:
    chain = chain or FakeChain()

    async def rpc(request: Request) -> Response:
        try:
            call = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"jsonrpc": "2.0", "id": None,
                                 "error": {"code": -32700, "message": "parse error"}})
        if not isinstance(call, dict) or "method" not in call:
            return JSONResponse({"jsonrpc": "2.0", "id": None,
                                 "error": {"code": -32600, "message": "invalid request"}})
        method, params = call["method"], call.get("params") or []
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
        if method == "eth_blockNumber":
            answer["result"] = hex(chain.head)
        elif method == "eth_getBlockByNumber":
            answer["result"] = chain.block(chain._number(params[0]))
        elif method == "eth_getLogs":
            found = chain.get_logs(params[0])
            answer["error" if isinstance(found, dict) else "result"] = found
        elif method == "eth_call":
            answer.update(_token_call(params[0] if params else {}))
        else:
            answer["error"] = {"code": -32601, "message": f"the method {method} does not exist/"
                               "is not available"}
        return JSONResponse(answer)

    async def control(request: Request) -> Response:
        if request.method == "POST":
            steer = json.loads(await request.body())
            if "head" in steer:
                chain.head = int(steer["head"])
            chain.head += int(steer.get("advance", 0))
            if "reorg" in steer:
                chain.reorg(int(steer["reorg"]))
            chain.corrupt.update(int(n) for n in steer.get("corrupt", []))
        return JSONResponse({"head": chain.head, "forked": sorted(chain.forks)})

    return Starlette(routes=[
        Route("/", rpc, methods=["POST"]),
        Route("/_chain", control, methods=["GET", "POST"]),
    ])
