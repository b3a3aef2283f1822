"""Ethereum JSON-RPC over HTTP (the execution API every node and provider serves):
`eth_blockNumber`, `eth_getBlockByNumber` and `eth_getLogs`.

The shared client handles HTTP 429/5xx, timeouts and dropped connections. JSON-RPC adds its own
failures in a 200 answer: `-32005` (limit exceeded: too many logs in the range, or the
provider's request limit) becomes RangeTooLarge so the caller halves the block range; any
other error is the node refusing the call. A body that is not a JSON-RPC answer (truncated,
an HTML page) is asked for again a few times: these reads are idempotent.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

from nexus.assembly.ingest.errors import BadPayload, SourceRefused
from nexus.assembly.ingest.http import SourceHttp

log = logging.getLogger("nexus.ingest.ethereum")

LIMIT_EXCEEDED = -32005
BODY_ATTEMPTS = 3


class RangeTooLarge(Exception):
    """The node refused a log query as too large (-32005): ask for fewer blocks."""


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    hash: str
    parent_hash: str
    timestamp: int  # seconds since the epoch


class JsonRpc:
    def __init__(self, http: SourceHttp, path: str = "") -> None:
        self.http = http
        self.path = path
        self._ids = itertools.count(1)

    async def call(self, method: str, params: list[Any]) -> Any:
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        for attempt in range(1, BODY_ATTEMPTS + 1):
            try:
                answer = await self.http.post_json(self.path, request)
                if not isinstance(answer, dict) or ("result" not in answer
                                                    and "error" not in answer):
                    raise BadPayload(
                        "not a JSON-RPC answer", request={"method": method},
                        excerpt=str(answer)[:200],
                    )
            except BadPayload:
                if attempt == BODY_ATTEMPTS:
                    raise
                log.warning("unreadable JSON-RPC answer; asking again",
                            extra={"method": method, "attempt": attempt})
                continue
            error = answer.get("error")
            if error is None:
                return answer["result"]
            code = error.get("code") if isinstance(error, dict) else None
            message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
            if code == LIMIT_EXCEEDED:
                raise RangeTooLarge(message)
            raise SourceRefused(200, f"JSON-RPC {code}: {message}"[:300],
                                request={"method": method})
        raise AssertionError("unreachable")

    async def block_number(self) -> int:
        return _quantity(await self.call("eth_blockNumber", []), "eth_blockNumber")

    async def block(self, number: int) -> Block:
        found = await self.call("eth_getBlockByNumber", [hex(number), False])
        if not isinstance(found, dict):
            raise BadPayload(f"no block {number}", request={"method": "eth_getBlockByNumber"},
                             excerpt=str(found)[:200])
        try:
            return Block(
                number=_quantity(found["number"], "number"),
                hash=str(found["hash"]).lower(),
                parent_hash=str(found["parentHash"]).lower(),
                timestamp=_quantity(found["timestamp"], "timestamp"),
            )
        except KeyError as missing:
            raise BadPayload(f"block {number} has no {missing}",
                             request={"method": "eth_getBlockByNumber"}) from None

    async def logs(
        self, first: int, last: int, addresses: list[str], topics: list[list[str]]
    ) -> list[dict[str, Any]]:
        found = await self.call(
            "eth_getLogs",
            [{"fromBlock": hex(first), "toBlock": hex(last), "address": addresses,
              "topics": topics}],
        )
        if not isinstance(found, list):
            raise BadPayload("eth_getLogs did not answer a list",
                             request={"method": "eth_getLogs", "from": first, "to": last},
                             excerpt=str(found)[:200])
        return found


def _quantity(value: Any, name: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise BadPayload(f"{name} is not a hex quantity", excerpt=str(value)[:100])
