"""Reads of what ingestion stored: ERC-20 transfers, exchange flows, pools from chain events and
the last exchange trades. Every on-chain read keeps canonical blocks only (`onchain_ddl`)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from nexus.stores.analytics import AnalyticsStore
from subgraphs.crypto.onchain_ddl import canonical
from subgraphs.crypto.pool_record import PoolRecord

TRANSFER_COLUMNS = (
    "block_number", "block_hash", "log_index", "transaction_hash", "at", "token",
    "token_address", "sender", "recipient", "amount", "price_usd", "value_usd",
    "sender_exchange", "recipient_exchange",
)


# The start of the UTC period holding `at`, by period length in seconds (weeks from Monday).
PERIOD_START = {
    3600: "toStartOfHour(at)",
    86_400: "toStartOfDay(at)",
    604_800: "toDateTime(toMonday(at), 'UTC')",
}


@dataclass(frozen=True, slots=True)
class TransferRecord:
    block_number: int
    block_hash: str
    log_index: int
    transaction_hash: str
    at: dt.datetime
    token: str
    token_address: str
    sender: str
    recipient: str
    amount: float
    price_usd: float | None
    value_usd: float | None
    sender_exchange: str
    recipient_exchange: str


@dataclass(frozen=True, slots=True)
class TransferFilter:
    """Which transfers a list asks for; every condition optional."""

    tokens: tuple[str, ...] = ()
    address: str | None = None  # sender or recipient, lower case
    min_value_usd: float | None = None
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True, order=True)
class ChainPosition:
    """Where a transfer sits on the chain: the key the newest-first order sorts on."""

    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class FlowRecord:
    exchange: str
    period_start: dt.datetime
    inflow_usd: float
    outflow_usd: float
    inflows: int
    outflows: int


@dataclass(frozen=True, slots=True)
class LastTrade:
    symbol: str
    price: float
    at: dt.datetime


class OnchainRepository:
    def __init__(self, store: AnalyticsStore, database: str) -> None:
        self.store = store
        self.database = database

    async def transfers(
        self, where: TransferFilter, first: int, after: ChainPosition | None
    ) -> tuple[list[TransferRecord], bool]:
        """Up to `first` transfers newest first, after the `after` position; and whether more
        follow."""
        conditions = [canonical(self.database)]
        params: dict[str, object] = {"limit": first + 1}
        if where.tokens:
            conditions.append("token IN {tokens:Array(String)}")
            params["tokens"] = list(where.tokens)
        if where.address:
            conditions.append("(sender = {address:String} OR recipient = {address:String})")
            params["address"] = where.address
        if where.min_value_usd is not None:
            conditions.append("value_usd >= {min_usd:Float64}")
            params["min_usd"] = where.min_value_usd
        if where.start is not None:
            conditions.append("at >= {start:DateTime}")
            params["start"] = where.start
        if where.end is not None:
            conditions.append("at < {end:DateTime}")
            params["end"] = where.end
        if after is not None:
            conditions.append("(block_number, log_index) < ({block:UInt64}, {index:UInt32})")
            params.update(block=after.block_number, index=after.log_index)
        rows = await self.store.query(
            f"SELECT {', '.join(TRANSFER_COLUMNS)} FROM {self.database}.transfers FINAL "
            f"WHERE {' AND '.join(conditions)} "
            "ORDER BY block_number DESC, log_index DESC LIMIT {limit:UInt32}",
            params,
        )
        records = [TransferRecord(**row) for row in rows[:first]]
        return records, len(rows) > first

    async def exchange_flows(
        self,
        exchanges: Sequence[str],
        tokens: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        period_seconds: int,
    ) -> list[FlowRecord]:
        """USD into and out of each known exchange per period; transfers between two addresses
        of the same exchange are internal and count for neither."""
        token_filter = "AND token IN {tokens:Array(String)}" if tokens else ""
        exchange_filter = "WHERE exchange IN {exchanges:Array(String)}" if exchanges else ""
        window = (
            f"{canonical(self.database)} AND at >= {{start:DateTime}} AND at < {{end:DateTime}} "
            f"AND sender_exchange != recipient_exchange {token_filter}"
        )
        rows = await self.store.query(
            f"SELECT exchange, toDateTime64({PERIOD_START[period_seconds]}, 3, 'UTC') "
            "AS period_start, sum(inflow) AS inflow_usd, sum(outflow) AS outflow_usd, "
            "countIf(direction = 'in') AS inflows, countIf(direction = 'out') AS outflows "
            "FROM ("
            f"SELECT recipient_exchange AS exchange, at, 'in' AS direction, "
            f"ifNull(value_usd, 0) AS inflow, 0.0 AS outflow FROM {self.database}.transfers "
            f"FINAL WHERE recipient_exchange != '' AND {window} "
            "UNION ALL "
            f"SELECT sender_exchange AS exchange, at, 'out' AS direction, 0.0 AS inflow, "
            f"ifNull(value_usd, 0) AS outflow FROM {self.database}.transfers "
            f"FINAL WHERE sender_exchange != '' AND {window}"
            f") {exchange_filter} GROUP BY exchange, period_start ORDER BY exchange, period_start",
            {
                "tokens": list(tokens),
                "exchanges": list(exchanges),
                "start": start,
                "end": end,
            },
        )
        return [FlowRecord(**row) for row in rows]

    async def pools(self, addresses: Sequence[str] | None = None) -> list[PoolRecord]:
        """Pools with their state from their canonical events (all, or those of `addresses`)."""
        only = "WHERE address IN {ids:Array(String)}" if addresses is not None else ""
        params = {"ids": [a.lower() for a in addresses or ()]}
        metadata = await self.store.query(
            "SELECT address, protocol, token0, token1, fee "
            f"FROM {self.database}.chain_pools FINAL {only} ORDER BY address",
            params,
        )
        if not metadata:
            return []
        events = (
            f"FROM {self.database}.pool_events FINAL WHERE {canonical(self.database)} "
            "AND pool IN {ids:Array(String)}"
        )
        ids = {"ids": [row["address"] for row in metadata]}
        latest = "(block_number, log_index)"
        states = await self.store.query(
            "SELECT pool, "
            f"argMaxIf(reserve0, {latest}, kind = 'sync') AS last_reserve0, "
            f"argMaxIf(reserve1, {latest}, kind = 'sync') AS last_reserve1, "
            f"argMaxIf(sqrt_price, {latest}, kind = 'swap') AS last_sqrt_price, "
            f"argMaxIf(liquidity, {latest}, kind = 'swap') AS last_liquidity, "
            f"max(block_number) AS last_block, max(at) AS last_at {events} GROUP BY pool",
            ids,
        )
        ranges = await self.store.query(
            "SELECT pool, tick_lower, tick_upper, sum(range_liquidity) AS range_total "
            f"{events} AND kind IN ('mint', 'burn') AND tick_lower IS NOT NULL "
            "GROUP BY pool, tick_lower, tick_upper HAVING range_total > 0 "
            "ORDER BY pool, tick_lower, tick_upper",
            ids,
        )
        # v3: the last Swap gives the pool's active liquidity; a Mint or Burn since, on a
        # range holding that Swap's tick, moved it by its liquidity delta (as the pool
        # contract does); earlier ones are already in the Swap's figure.
        since_swap = await self.store.query(
            "SELECT m.pool AS pool, sum(m.range_liquidity) AS delta FROM ("
            f"SELECT pool, block_number, log_index, tick_lower, tick_upper, range_liquidity "
            f"{events} AND kind IN ('mint', 'burn') AND tick_lower IS NOT NULL) AS m "
            f"INNER JOIN (SELECT pool, argMax(tick, {latest}) AS tick, max({latest}) AS swapped "
            f"{events} AND kind = 'swap' GROUP BY pool) AS s ON m.pool = s.pool "
            "WHERE (m.block_number, m.log_index) > s.swapped AND m.tick_lower <= s.tick "
            "AND s.tick < m.tick_upper GROUP BY m.pool",
            ids,
        )
        deltas = {row["pool"]: float(row["delta"]) for row in since_swap}
        by_pool = {
            row["pool"]: {**row, "liquidity_delta": deltas.get(row["pool"])} for row in states
        }
        pool_ranges: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        for row in ranges:
            pool_ranges[row["pool"]].append(
                (row["tick_lower"], row["tick_upper"], row["range_total"])
            )
        found = []
        for meta in metadata:
            record = _chain_pool(meta, by_pool.get(meta["address"]), pool_ranges[meta["address"]])
            if record is not None:
                found.append(record)
        return found

    async def last_trades(self, symbols: Sequence[str]) -> list[LastTrade | None]:
        rows = await self.store.query(
            "SELECT symbol, argMax(price, (at, trade_id)) AS last_price, max(at) AS last_at "
            f"FROM {self.database}.trades FINAL WHERE symbol IN {{symbols:Array(String)}} "
            "GROUP BY symbol",
            {"symbols": sorted(set(symbols))},
        )
        found = {
            row["symbol"]: LastTrade(row["symbol"], row["last_price"], row["last_at"])
            for row in rows
        }
        return [found.get(symbol) for symbol in symbols]


def _chain_pool(
    meta: dict[str, object], state: dict[str, object] | None, ranges: list[tuple[int, int, float]]
) -> PoolRecord | None:
    """The pool's record, or None until its events give it a price (v2: a Sync; v3: a Swap)."""
    if state is None:
        return None
    reserve0, reserve1 = state["last_reserve0"], state["last_reserve1"]
    sqrt_price = state["last_sqrt_price"]
    if meta["protocol"] == "uniswap_v2":
        if not (isinstance(reserve0, float) and isinstance(reserve1, float) and reserve0 > 0):
            return None
        sqrt_price = math.sqrt(reserve1 / reserve0)
    elif not (isinstance(sqrt_price, float) and sqrt_price > 0):
        return None
    at = state["last_at"]
    assert isinstance(at, dt.datetime)
    liquidity = state["last_liquidity"]
    if isinstance(liquidity, float):
        liquidity += float(state.get("liquidity_delta") or 0.0)  # type: ignore[arg-type]
    return PoolRecord(
        id=str(meta["address"]),
        protocol=str(meta["protocol"]),
        token0=str(meta["token0"]),
        token1=str(meta["token1"]),
        fee=float(meta["fee"]),  # type: ignore[arg-type]
        synthetic=False,
        seeded_on=at.date(),
        reserve0=float(reserve0 or 0.0),  # type: ignore[arg-type]
        reserve1=float(reserve1 or 0.0),  # type: ignore[arg-type]
        sqrt_price=float(sqrt_price),
        range_lower=tuple(lower for lower, _, _ in ranges),
        range_upper=tuple(upper for _, upper, _ in ranges),
        range_liquidity=tuple(liquidity for _, _, liquidity in ranges),
        address=str(meta["address"]),
        block_number=int(state["last_block"]),  # type: ignore[call-overload]
        updated_at=at,
        active_liquidity=liquidity if isinstance(liquidity, float) else None,
    )
