"""The stored state of a liquidity pool, synthetic or read from the chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """A liquidity pool: v2 reserves, or a v3 price and its liquidity ranges (ticks)."""

    id: str
    protocol: str
    token0: str
    token1: str
    fee: float
    synthetic: bool
    seeded_on: dt.date
    reserve0: float
    reserve1: float
    sqrt_price: float
    range_lower: tuple[int, ...]
    range_upper: tuple[int, ...]
    range_liquidity: tuple[float, ...]
    # Pools read from the chain: the contract, the last event's block, and v3's active
    # liquidity as the last Swap reported it (ranges minted before ingestion began are unseen).
    address: str | None = None
    block_number: int | None = None
    updated_at: dt.datetime | None = None
    active_liquidity: float | None = None
