"""Demo Uniswap pools (synthetic: true) seeded from the real ETH, BTC and USDT closes.

No on-chain pool data is ingested yet, so the demo builds four pools priced at the last day
of the real candles (2022-11-15): a Uniswap v2 and a v3 pool for ETH/USDT and for BTC/USDT.
v2 pools hold reserves worth about 25M USD a side; v3 pools hold three liquidity ranges
around the price (+-5%, +-20%, +-60%), each sized by depositing the same value. Every such
pool is marked `synthetic` until real pool data replaces it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from engines.amm import liquidity_for_amounts, tick_at_price
from nexus.stores.analytics import AnalyticsStore
from subgraphs.crypto.ddl import DATABASE
from subgraphs.crypto.repository import POOL_COLUMNS

SIDE_VALUE_USD = 25_000_000.0
RANGES = (0.05, 0.20, 0.60)  # half-widths of the v3 ranges, as fractions of the price
PAIRS = (("ETH", "USDT"), ("BTC", "USDT"))


def _pool_rows(closes: dict[str, float], day: dt.date) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for token0, token1 in PAIRS:
        price = closes[token0] / closes[token1]  # token1 per token0
        reserve0 = SIDE_VALUE_USD / closes[token0]
        reserve1 = SIDE_VALUE_USD / closes[token1]
        pair = f"{token0}-{token1}".lower()
        rows.append([
            f"uniswap-v2-{pair}", "uniswap_v2", token0, token1, 0.003, True, day,
            reserve0, reserve1, math.sqrt(price), [], [], [],
        ])
        bounds = np.array([[price * (1 - w), price * (1 + w)] for w in RANGES])
        ticks = np.array(tick_at_price(prices=bounds))
        ticks[:, 1] += 1  # the upper tick is the first above the bound
        sqrt_bounds = np.sqrt(1.0001 ** ticks.astype(np.float64))
        liquidity = np.asarray(
            liquidity_for_amounts(
                sqrt_prices=np.full(len(RANGES), math.sqrt(price)),
                sqrt_prices_lower=sqrt_bounds[:, 0],
                sqrt_prices_upper=sqrt_bounds[:, 1],
                amounts0=np.full(len(RANGES), reserve0 / len(RANGES)),
                amounts1=np.full(len(RANGES), reserve1 / len(RANGES)),
            )
        )
        rows.append([
            f"uniswap-v3-{pair}-0.3", "uniswap_v3", token0, token1, 0.003, True, day,
            0.0, 0.0, math.sqrt(price), ticks[:, 0].tolist(), ticks[:, 1].tolist(),
            liquidity.tolist(),
        ])
    return rows


async def load_pools(store: AnalyticsStore) -> int:
    """Seed the demo pools from the last day with a close of every token (idempotent)."""
    rows = await store.query(
        f"SELECT symbol, date, close FROM {DATABASE}.candles FINAL "
        "WHERE date = (SELECT min(last) FROM (SELECT max(date) AS last "
        f"FROM {DATABASE}.candles GROUP BY symbol))"
    )
    closes = {row["symbol"]: row["close"] for row in rows}
    pools = _pool_rows(closes, rows[0]["date"])
    await store.insert(f"{DATABASE}.pools", list(POOL_COLUMNS), pools)
    await store.command(f"OPTIMIZE TABLE {DATABASE}.pools FINAL")
    return len(pools)
