"""Ethereum records into the crypto store: transfers valued in US dollars, pool events, and the
canonical blocks last, so a batch counts only once all of it is written.

A transfer is valued at ingestion with the latest price of its token's price symbol: the last
exchange trade stored, else the last daily close, else the token's peg (USDC: 1.0). Transfers
worth at least NEXUS_WHALE_USD (default 1,000,000) that were not stored before go out as
`onchain.whales.{TOKEN}` events.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from nexus.assembly.ingest.connectors.ethereum_source import (
    BLOCK,
    POOL_EVENT,
    REWIND,
    TRANSFER_KIND,
)
from nexus.assembly.ingest.records import DomainEvent, Record, Written
from nexus.assembly.ingest.schema import ensure
from nexus.config import ConfigError
from nexus.events import WhaleTransfer, encode, whale_channel
from nexus.stores.analytics import AnalyticsStore
from subgraphs.crypto.ddl import statements
from subgraphs.crypto.onchain_ddl import canonical

DEFAULT_WHALE_USD = 1_000_000.0
PRICE_SECONDS = 60.0  # how long a run reuses a price it read (a backfill reads it once a minute)
TRANSFER_COLUMNS = (
    "block_number", "block_hash", "log_index", "transaction_hash", "at", "token",
    "token_address", "sender", "recipient", "amount", "amount_raw", "price_usd", "value_usd",
    "sender_exchange", "recipient_exchange",
)
POOL_EVENT_COLUMNS = (
    "block_number", "block_hash", "log_index", "transaction_hash", "at", "pool", "kind",
    "amount0", "amount1", "reserve0", "reserve1", "sqrt_price", "liquidity", "tick",
    "tick_lower", "tick_upper", "range_liquidity",
)


def whale_threshold(env: Mapping[str, str]) -> float:
    text = env.get("NEXUS_WHALE_USD", "").strip()
    if not text:
        return DEFAULT_WHALE_USD
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"NEXUS_WHALE_USD must be a positive number of US dollars, not {text!r}")
    return value


def _at(timestamp: Any) -> dt.datetime:
    if not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"timestamp {timestamp!r}")
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


class _Times:
    """`_at` of each distinct timestamp once (a block's logs share its time)."""

    def __init__(self) -> None:
        self.known: dict[Any, dt.datetime] = {}

    def __call__(self, timestamp: Any) -> dt.datetime:
        if type(timestamp) is not int:
            return _at(timestamp)  # (raises for what is not a timestamp)
        at = self.known.get(timestamp)
        if at is None:
            at = self.known[timestamp] = _at(timestamp)
        return at


class EthereumSink:
    kinds = frozenset({REWIND, BLOCK, TRANSFER_KIND, POOL_EVENT})

    def __init__(
        self, store: AnalyticsStore, database: str, whale_usd: float = DEFAULT_WHALE_USD
    ) -> None:
        self.store = store
        self.database = database
        self.whale_usd = whale_usd
        self._prices_read: dict[str, tuple[float, float | None]] = {}  # symbol -> (at, price)
        self._pools_written: set[tuple[Any, ...]] = set()

    @classmethod
    def from_env(cls, store: AnalyticsStore, database: str) -> EthereumSink:
        return cls(store, database, whale_threshold(os.environ))

    async def ensure_schema(self) -> None:
        await ensure(self.store, statements(self.database))

    async def write(self, records: list[Record]) -> Written:
        rejected: list[tuple[Record, str]] = []
        transfers: list[tuple[Record, dict[str, Any], dt.datetime]] = []
        pool_rows: list[list[Any]] = []
        pools: dict[str, list[Any]] = {}
        blocks: list[list[Any]] = []
        rewinds: list[dict[str, Any]] = []
        at = _Times()  # a block's logs share its time: one datetime per block, not per row
        for record in records:
            try:
                row = record.payload
                if record.kind == TRANSFER_KIND:
                    transfers.append((record, row, at(row["timestamp"])))
                elif record.kind == POOL_EVENT:
                    pool_rows.append(_pool_event_row(row, at(row["timestamp"])))
                    pools[row["pool"]] = [row["pool"], row["protocol"], row["token0"],
                                          row["token1"], float(row["fee"])]
                elif record.kind == BLOCK:
                    blocks.append([int(row["number"]), str(row["hash"]), at(row["timestamp"]),
                                   2 * int(row["generation"]) + 1])
                elif record.kind == REWIND:
                    rewinds.append({"first": int(row["from_block"]), "last": int(row["to_block"]),
                                    "version": 2 * int(row["generation"])})
                else:
                    rejected.append((record, f"unknown kind {record.kind!r}"))
            except (KeyError, TypeError, ValueError) as error:
                rejected.append((record, f"malformed {record.kind}: {error!r}"[:200]))
        prices = await self._prices({row["price_symbol"] for _, row, _ in transfers})
        transfer_rows: list[list[Any]] = []
        whales: list[tuple[dict[str, Any], dt.datetime, float, float]] = []
        for record, row, time_at in transfers:
            try:
                price = prices.get(row["price_symbol"]) or row.get("peg_usd")
                amount = float(row["amount"])
                value = amount * price if price else None
                transfer_rows.append([
                    int(row["block_number"]), str(row["block_hash"]), int(row["log_index"]),
                    str(row["transaction_hash"]), time_at, str(row["token"]),
                    str(row["token_address"]), str(row["sender"]), str(row["recipient"]),
                    amount, str(row["amount_raw"]), price, value,
                    str(row["sender_exchange"]), str(row["recipient_exchange"]),
                ])
            except (KeyError, TypeError, ValueError) as error:
                rejected.append((record, f"malformed transfer: {error!r}"[:200]))
                continue
            if value is not None and price is not None and value >= self.whale_usd:
                whales.append((row, time_at, price, value))
        # Only transfers no canonical block held before alert: a batch written again is silent.
        stored = await self._stored([row for row, _, _, _ in whales])
        events = [
            _whale_event(row, time_at, price, value) for row, time_at, price, value in whales
            if (row["block_hash"], row["log_index"]) not in stored
        ]
        db = self.database
        await self.store.insert(f"{db}.transfers", TRANSFER_COLUMNS, transfer_rows)
        await self.store.insert(f"{db}.pool_events", POOL_EVENT_COLUMNS, pool_rows)
        new_pools = [row for row in pools.values() if tuple(row) not in self._pools_written]
        await self.store.insert(
            f"{db}.chain_pools", ["address", "protocol", "token0", "token1", "fee"], new_pools
        )
        self._pools_written.update(tuple(row) for row in new_pools)
        for rewind in rewinds:  # retire the old chain's blocks above the fork point
            await self.store.command(
                f"INSERT INTO {db}.chain_blocks SELECT number, '', at, {{version:UInt64}} "
                f"FROM {db}.chain_blocks FINAL WHERE number BETWEEN {{first:UInt64}} "
                "AND {last:UInt64} AND hash != ''",
                rewind,
            )
        # Last: the blocks make this batch's rows canonical, all at once.
        await self.store.insert(f"{db}.chain_blocks", ["number", "hash", "at", "version"], blocks)
        rows = len(transfer_rows) + len(pool_rows)
        return Written(events=events, rejected=rejected, rows=rows)

    async def _prices(self, symbols: set[str]) -> dict[str, float]:
        """The latest US-dollar price of each symbol: its last stored trade, else its last
        daily close (read at most once a PRICE_SECONDS per symbol)."""
        now = time.monotonic()
        stale = sorted(s for s in symbols
                       if now - self._prices_read.get(s, (-PRICE_SECONDS, None))[0]
                       >= PRICE_SECONDS)
        if stale:
            # One read for both: the last close (rank 0), then the last trade (rank 1), later.
            found = {
                row["symbol"]: row["price"]
                for row in sorted(await self.store.query(
                    f"SELECT symbol, 0 AS rank, argMax(close, date) AS price "
                    f"FROM {self.database}.candles WHERE symbol IN {{symbols:Array(String)}} "
                    "GROUP BY symbol UNION ALL "
                    "SELECT symbol, 1 AS rank, argMax(price, (at, trade_id)) AS price "
                    f"FROM {self.database}.trades WHERE symbol IN {{symbols:Array(String)}} "
                    "GROUP BY symbol",
                    {"symbols": stale},
                ), key=lambda row: int(row["rank"]))
            }
            self._prices_read.update((s, (now, found.get(s))) for s in stale)
        return {s: price for s in symbols if (price := self._prices_read[s][1]) is not None}

    async def _stored(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, int]]:
        """Which of these transfers a canonical block already holds (a batch written again)."""
        if not rows:
            return set()
        found = await self.store.query(
            f"SELECT block_hash, log_index FROM {self.database}.transfers "
            f"WHERE block_hash IN {{hashes:Array(String)}} AND {canonical(self.database)}",
            {"hashes": sorted({str(row["block_hash"]) for row in rows})},
        )
        return {(row["block_hash"], row["log_index"]) for row in found}


def _pool_event_row(row: dict[str, Any], at: dt.datetime) -> list[Any]:
    get = row.get
    reserve0, reserve1, sqrt_price, liquidity, tick, tick_lower, tick_upper = (
        get("reserve0"), get("reserve1"), get("sqrt_price"), get("liquidity"), get("tick"),
        get("tick_lower"), get("tick_upper"),
    )
    return [
        int(row["block_number"]), str(row["block_hash"]), int(row["log_index"]),
        str(row["transaction_hash"]), at, str(row["pool"]), str(row["kind"]),
        float(row["amount0"]), float(row["amount1"]),
        None if reserve0 is None else float(reserve0),
        None if reserve1 is None else float(reserve1),
        None if sqrt_price is None else float(sqrt_price),
        None if liquidity is None else float(liquidity),
        None if tick is None else int(tick),
        None if tick_lower is None else int(tick_lower),
        None if tick_upper is None else int(tick_upper),
        float(row["range_liquidity"]),
    ]


def _whale_event(
    row: dict[str, Any], at: dt.datetime, price: float, value: float
) -> DomainEvent:
    event = WhaleTransfer(
        token=str(row["token"]), token_address=str(row["token_address"]),
        block_number=int(row["block_number"]), block_hash=str(row["block_hash"]),
        log_index=int(row["log_index"]), transaction_hash=str(row["transaction_hash"]),
        sender=str(row["sender"]), recipient=str(row["recipient"]), amount=float(row["amount"]),
        price_usd=price, value_usd=value,
        sender_exchange=str(row["sender_exchange"]) or None,
        recipient_exchange=str(row["recipient_exchange"]) or None,
        at=at, published_at=time.time(),
    )
    return DomainEvent(whale_channel(event.token), encode(event))
