"""Ethereum logs by block range: ERC-20 transfers of known tokens and Uniswap events of known
pools, as records, with a reorg-safe cursor.

The cursor is the last block read, by number AND hash, plus the hashes of the last few batch
ends. Each run first asks the node for the block at the cursor's number: another hash means the
chain was reorganised under us. The run then walks back over the remembered hashes to the last
block both chains share, logs a warning, and re-reads from the block after it; its first batch
carries an `ethereum.rewind` record so the sink retires every block above the fork point
(tombstones) in the same write as the new blocks. Nothing is deleted and no batch is written
half: rows only count once their block is canonical (subgraphs/crypto/onchain_ddl.py).

A batch is one `eth_getLogs` range (NEXUS_ETHEREUM_BLOCKS_PER_REQUEST blocks). A node that
answers -32005 (too many results) gets half the range, then the range grows back. Up to
NEXUS_ETHEREUM_CONCURRENT_RANGES ranges are read at once (within the connector's request rate:
a remote node's round trips overlap); their batches are yielded in block order, so a batch's
cursor never runs ahead of the batches before it. A range that must be read again (halved, or
the chain moved under it) drops the ranges read ahead of it, which are then read again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any

from nexus.assembly.ingest.connectors.address_book import AddressBook, PoolInfo
from nexus.assembly.ingest.connectors.evm_logs import (
    POOL_TOPICS,
    TRANSFER,
    LogError,
    PoolLog,
    TransferLog,
    decode_logs,
)
from nexus.assembly.ingest.connectors.json_rpc import Block, JsonRpc, RangeTooLarge
from nexus.assembly.ingest.errors import IngestError, SourceRefused, SourceUnavailable
from nexus.assembly.ingest.http import SourceHttp
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.source import SourceConfig
from nexus.config import ConfigError

log = logging.getLogger("nexus.ingest.ethereum")

NAME = "ethereum"
REWIND, BLOCK, TRANSFER_KIND, POOL_EVENT = (
    "ethereum.rewind", "ethereum.block", "erc20.transfer", "uniswap.event",
)
RECENT = 128  # block hashes remembered (those with logs, and batch ends) to find a fork point
# Beyond what it remembers, a run re-reads this many blocks: Ethereum finalises a block after
# two epochs (64 slots), so no reorganisation goes deeper.
FINALITY_BLOCKS = 64
MOVING_CHAIN_ATTEMPTS = 3
TICKS_PER_DECADE = math.log(10) / math.log(1.0001)


def _int_env(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not (text.isdigit() and low <= int(text) <= high):
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


class EthereumSource:
    name = NAME

    def __init__(self, config: SourceConfig) -> None:
        env = config.env
        self.book = AddressBook.from_env(env)
        self.step = _int_env(env, "NEXUS_ETHEREUM_BLOCKS_PER_REQUEST", 500, 1, 100_000)
        self.max_blocks = _int_env(env, "NEXUS_ETHEREUM_MAX_BLOCKS", 10_000, 1, 10_000_000)
        self.confirmations = _int_env(env, "NEXUS_ETHEREUM_CONFIRMATIONS", 0, 0, 10_000)
        self.concurrent = _int_env(env, "NEXUS_ETHEREUM_CONCURRENT_RANGES", 4, 1, 32)
        start = env.get("NEXUS_ETHEREUM_START_BLOCK", "").strip()
        self.start_block = _int_env(env, "NEXUS_ETHEREUM_START_BLOCK", 0, 0, 2**40) if start \
            else None

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        rpc = JsonRpc(http)
        for address in sorted(self.book.unresolved):
            self.book = await _learn_token(rpc, self.book, address)
        ranges = block_ranges(window)
        if ranges:  # re-read given ranges (a dead letter's replay); the cursor stays where it is
            generation = int(cursor.get("generation", 0))
            for first, last in ranges:
                async for batch in self._read(rpc, first, last, generation, None):
                    yield Batch(batch.records, dict(cursor), batch.failures)
            return
        head = await rpc.block_number() - self.confirmations
        generation = int(cursor.get("generation", 0))
        recent = [(int(n), str(h)) for n, h in cursor.get("recent", [])]
        rewind: Record | None = None
        if "block" in cursor:
            last, known_hash = int(cursor["block"]), str(cursor["hash"])
            now = await rpc.block(last) if last <= head + self.confirmations else None
            if now is not None and now.hash != known_hash:
                fork = await _fork_point(rpc, recent, last)
                generation += 1
                log.warning(
                    "chain reorganisation: re-reading from the fork point",
                    extra={"source": NAME, "block": last, "was": known_hash, "now": now.hash,
                           "fork_block": fork, "generation": generation},
                )
                rewind = Record(NAME, REWIND, f"rewind:{generation}:{fork}", {
                    "from_block": fork + 1, "to_block": last, "generation": generation,
                })
                recent = [(n, h) for n, h in recent if n <= fork]
                start = fork + 1
            else:
                start = last + 1
        elif self.start_block is not None:
            start = self.start_block
        else:
            start = max(0, head - self.step + 1)  # a first run reads the latest range
        end = min(head, start + self.max_blocks - 1)
        async for batch in self._read(rpc, start, end, generation, rewind):
            recent = [*recent, *_block_hashes(batch)][-RECENT:]
            yield Batch(batch.records, {
                "block": batch.cursor["block"], "hash": batch.cursor["hash"],
                "recent": [list(pair) for pair in recent], "generation": generation,
            }, batch.failures)

    async def _read(
        self, rpc: JsonRpc, start: int, end: int, generation: int, rewind: Record | None
    ) -> AsyncIterator[Batch]:
        """Batches of blocks `start`..`end`, each with the block it ends at as its cursor, in
        block order; up to `concurrent` ranges are read at once."""
        step = self.step
        moving = 0
        ahead: deque[tuple[int, asyncio.Task[_Read]]] = deque()  # (range's last block, read)
        try:
            while start <= end:
                following = ahead[-1][0] + 1 if ahead else start
                while len(ahead) < self.concurrent and following <= end:
                    last = min(following + step - 1, end)
                    read = asyncio.ensure_future(self._range(rpc, following, last, generation))
                    ahead.append((last, read))
                    following = last + 1
                last, read = ahead.popleft()
                try:
                    batch = await read
                except RangeTooLarge:
                    await _dropped(ahead)  # read again at the new step
                    if last == start:
                        raise SourceUnavailable(f"{NAME}: block {start} alone exceeds the "
                                                "node's log limit") from None
                    step = max(1, (last - start + 1) // 2)
                    log.info("log range too large; halving",
                             extra={"source": NAME, "blocks": step})
                    continue
                if batch is None:  # the chain moved while we read the range: read it again
                    await _dropped(ahead)  # (read while it moved: read again after it)
                    moving += 1
                    if moving > MOVING_CHAIN_ATTEMPTS:
                        raise SourceUnavailable(f"{NAME}: blocks {start}-{last} kept changing")
                    continue
                moving = 0
                records, failures, end_block = batch
                if rewind is not None:
                    records.insert(0, rewind)
                    rewind = None
                yield Batch(records, {"block": end_block.number, "hash": end_block.hash},
                            failures)
                start = last + 1
                step = min(self.step, step * 2)
        finally:
            await _dropped(ahead)

    async def _range(self, rpc: JsonRpc, start: int, last: int, generation: int) -> _Read:
        """One range's logs and blocks as a batch; None when the chain moved under the read;
        raises RangeTooLarge for a range the node will not answer whole."""
        logs = await rpc.logs(start, last, self.book.contracts, [[TRANSFER, *POOL_TOPICS]])
        return await self._batch(rpc, logs, start, last, generation)

    async def _batch(
        self, rpc: JsonRpc, logs: list[dict[str, Any]], start: int, last: int, generation: int
    ) -> tuple[list[Record], list[DeadLetter], Block] | None:
        failures: list[DeadLetter] = []
        events: list[tuple[TransferLog | PoolLog, dict[str, Any]]] = []
        # Not the logs the node already knows were reorganised away.
        live = [item for item in logs if not (isinstance(item, dict) and item.get("removed"))]
        for item, event in zip(live, decode_logs(live), strict=True):
            if isinstance(event, LogError):
                failures.append(DeadLetter(NAME, "fetch", f"malformed log: {event}",
                                           {"log": item}, _scope(start, last)))
            elif event is not None:
                events.append((event, item))
        stamps: dict[int, tuple[str, str]] = {}  # block -> hash, time: the last log's
        for event, item in events:  # nodes since 2025 put the block's time on each log
            stamp = item.get("blockTimestamp")
            if isinstance(stamp, str) and stamp.startswith("0x"):
                stamps[event.position.block_number] = (event.position.block_hash, stamp)
        blocks = {number: Block(number, block_hash, "", int(stamp, 16))
                  for number, (block_hash, stamp) in stamps.items()}
        for number in sorted({e.position.block_number for e, _ in events} - set(blocks)):
            blocks[number] = await rpc.block(number)
        blocks[last] = await rpc.block(last)  # the cursor's hash, always from the node
        if any(e.position.block_hash != blocks[e.position.block_number].hash for e, _ in events):
            log.warning("logs and blocks disagree (chain moving); re-reading the range",
                        extra={"source": NAME, "from_block": start, "to_block": last})
            return None
        records = [
            Record(NAME, BLOCK, f"{b.number}:{b.hash}",
                   {"number": b.number, "hash": b.hash, "timestamp": b.timestamp,
                    "generation": generation})
            for b in blocks.values()
        ]
        for event, item in events:
            block = blocks[event.position.block_number]
            record = self._record(event, block)
            if record is None:
                failures.append(DeadLetter(NAME, "fetch", "log of an unexpected contract/event",
                                           {"log": item}, _scope(start, last)))
            else:
                records.append(record)
        return records, failures, blocks[last]

    def _record(self, event: TransferLog | PoolLog, block: Block) -> Record | None:
        p = event.position
        key = f"{p.block_hash}:{p.log_index}"
        if isinstance(event, TransferLog):
            token = self.book.tokens.get(p.address)
            if token is None:
                return None
            exchanges = self.book.exchanges
            return Record(NAME, TRANSFER_KIND, key, {
                "block_number": p.block_number, "block_hash": p.block_hash,
                "log_index": p.log_index, "transaction_hash": p.transaction_hash,
                "timestamp": block.timestamp, "token": token.symbol,
                "token_address": token.address, "sender": event.sender,
                "recipient": event.recipient, "amount": event.value / 10**token.decimals,
                "amount_raw": str(event.value), "price_symbol": token.price_symbol,
                "peg_usd": token.peg_usd, "sender_exchange": exchanges.get(event.sender, ""),
                "recipient_exchange": exchanges.get(event.recipient, ""),
            })
        pool = self.book.pools.get(p.address)
        if pool is None or pool.protocol != event.protocol:
            return None
        return Record(NAME, POOL_EVENT, key, {
            "block_number": p.block_number, "block_hash": p.block_hash, "log_index": p.log_index,
            "transaction_hash": p.transaction_hash, "timestamp": block.timestamp,
            **pool_values(pool, event),
        })


SYMBOL_CALL = "0x95d89b41"  # symbol()
DECIMALS_CALL = "0x313ce567"  # decimals()


async def _learn_token(rpc: JsonRpc, book: AddressBook, address: str) -> AddressBook:
    """The book with `address`'s symbol and decimals read from its contract (ERC-20's optional
    `symbol()` and `decimals()`); unchanged, with an error logged, when the contract does not
    answer them (its logs are then dead letters, as any unknown contract's)."""
    try:
        symbol = abi_text(await rpc.call("eth_call", [{"to": address, "data": SYMBOL_CALL},
                                                      "latest"]))
        raw = await rpc.call("eth_call", [{"to": address, "data": DECIMALS_CALL}, "latest"])
        decimals = int(str(raw), 16)
    except (SourceRefused, ValueError) as error:
        log.error("token metadata unavailable", extra={"source": NAME, "token": address,
                                                       "reason": str(error)[:200]})
        return book
    if not symbol or not 0 <= decimals <= 77:
        log.error("token metadata unusable", extra={"source": NAME, "token": address,
                                                    "symbol": symbol, "decimals": decimals})
        return book
    log.info("token metadata read from the chain",
             extra={"source": NAME, "token": address, "symbol": symbol, "decimals": decimals})
    return book.learned(address, symbol, decimals)


def abi_text(result: object) -> str:
    """An ABI-encoded `string` return value (offset, length, bytes), or a `bytes32` one (older
    tokens such as MKR), as text."""
    data = bytes.fromhex(str(result).removeprefix("0x"))
    if len(data) == 32:
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()
    if len(data) < 64:
        raise ValueError(f"not an ABI string: {str(result)[:80]}")
    offset = int.from_bytes(data[:32], "big")
    length = int.from_bytes(data[offset:offset + 32], "big")
    text = data[offset + 32:offset + 32 + length]
    if len(text) != length:
        raise ValueError("ABI string cut short")
    return text.decode("utf-8", "replace").strip()


def block_ranges(window: Window) -> list[tuple[int, int]]:
    """The `blocks:FIRST-LAST` entries of `--only` (what a dead letter's replay re-reads)."""
    ranges = []
    for entry in window.only:
        first, _, last = entry.removeprefix("blocks:").partition("-")
        if not (entry.startswith("blocks:") and first.isdigit() and last.isdigit()
                and int(first) <= int(last)):
            raise IngestError(f"ethereum --only takes blocks:FIRST-LAST ranges, not {entry!r}")
        ranges.append((int(first), int(last)))
    return ranges


_Read = tuple[list[Record], list[DeadLetter], Block] | None


async def _dropped(ahead: deque[tuple[int, asyncio.Task[_Read]]]) -> None:
    """Cancel the ranges read ahead and wait for them (their errors, if any, are dropped too:
    each range that matters is read again)."""
    reads = [read for _, read in ahead]
    ahead.clear()
    for read in reads:
        read.cancel()
    await asyncio.gather(*reads, return_exceptions=True)


def _scope(first: int, last: int) -> dict[str, Any]:
    return Window(only=(f"blocks:{first}-{last}",)).to_json()


def _block_hashes(batch: Batch) -> list[tuple[int, str]]:
    return sorted({(int(r.payload["number"]), str(r.payload["hash"]))
                   for r in batch.records if r.kind == BLOCK})


def pool_values(pool: PoolInfo, event: PoolLog) -> dict[str, Any]:
    """The event in token units: amounts and reserves over 10^decimals, the v3 price as
    sqrt(token1 per token0), liquidity over 10^((d0 + d1) / 2) and ticks on that price scale."""
    unit0, unit1, shift, price_scale, liquidity_scale = _scales(pool.token0.decimals,
                                                                pool.token1.decimals)
    tick, lower, upper = event.tick, event.tick_lower, event.tick_upper
    return {
        "pool": pool.address, "protocol": pool.protocol, "token0": pool.token0.symbol,
        "token1": pool.token1.symbol, "fee": pool.fee, "kind": event.kind,
        "amount0": event.amount0 / unit0,
        "amount1": event.amount1 / unit1,
        "reserve0": None if event.reserve0 is None else event.reserve0 / unit0,
        "reserve1": None if event.reserve1 is None else event.reserve1 / unit1,
        "sqrt_price": None if event.sqrt_price_x96 is None
        else event.sqrt_price_x96 / 2**96 * price_scale,
        "liquidity": None if event.liquidity is None else event.liquidity / liquidity_scale,
        "tick": None if tick is None else round(tick + shift),
        "tick_lower": None if lower is None else round(lower + shift),
        "tick_upper": None if upper is None else round(upper + shift),
        "range_liquidity": event.range_liquidity / liquidity_scale,
    }


@functools.cache
def _scales(d0: int, d1: int) -> tuple[int, int, float, float, float]:
    """A pool's constants by its tokens' decimals, computed once: each token's unit (10^d, an
    int, so a raw amount over it is correctly rounded), the tick shift, the sqrt-price and
    liquidity scales."""
    return (10**d0, 10**d1, (d0 - d1) * TICKS_PER_DECADE, 10 ** ((d0 - d1) / 2),
            10 ** ((d0 + d1) / 2))


async def _fork_point(rpc: JsonRpc, recent: list[tuple[int, str]], last: int) -> int:
    """The highest remembered block whose hash the node still has (its ancestors are then the
    same too); when none matches, a finality's depth below the cursor or the oldest remembered
    block, whichever is lower (re-reading more than needed is safe: writes are idempotent)."""
    for number, known in sorted(recent, reverse=True):
        if number >= last:
            continue
        if (await rpc.block(number)).hash == known:
            return number
    fork = max(0, min([last - FINALITY_BLOCKS, *(n for n, _ in recent)]) - 1)
    log.error("no remembered block survived the reorganisation; re-reading from %s", fork + 1,
              extra={"source": NAME})
    return fork
