"""Batched AMM computations for the pool fields of a request, off the event loop.

Every quote of the request (all pools, all amounts, both directions) goes through one
`constant_product_amount_out` + one `constant_product_price_impact` call for v2 pools and one
`concentrated_liquidity_swap` call for v3 pools; positions through one `amounts_for_liquidity`
call; impermanent losses through one `impermanent_loss` call.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.amm import (
    amounts_for_liquidity,
    concentrated_liquidity_swap,
    constant_product_amount_out,
    constant_product_price_impact,
    impermanent_loss,
    sqrt_price_at_tick,
)
from nexus.errors import BadUserInput
from nexus.metrics import engine_call
from subgraphs.crypto.pool_record import PoolRecord

V2, V3 = "uniswap_v2", "uniswap_v3"
LOG_TICK_BASE = math.log(1.0001)


@dataclass(frozen=True, slots=True)
class ActiveRange:
    """The v3 price interval around the current price on which liquidity is constant."""

    tick_lower: int
    tick_upper: int
    liquidity: float


def active_range(pool: PoolRecord) -> ActiveRange | None:
    tick = current_tick(pool)
    inside = [
        (lower, upper, liquidity)
        for lower, upper, liquidity in zip(
            pool.range_lower, pool.range_upper, pool.range_liquidity, strict=True
        )
        if lower <= tick < upper
    ]
    if not inside:
        return None
    return ActiveRange(
        max(lower for lower, _, _ in inside),
        min(upper for _, upper, _ in inside),
        sum(liquidity for _, _, liquidity in inside),
    )


def current_tick(pool: PoolRecord) -> int:
    return math.floor(2 * math.log(pool.sqrt_price) / LOG_TICK_BASE)


@dataclass(eq=False)
class QuoteRequest:
    pool: PoolRecord
    amounts: np.ndarray
    sell_token0: bool


@dataclass(frozen=True, slots=True)
class QuoteColumns:
    amounts_in_used: list[float]
    amounts_out: list[float]
    price_impacts: list[float]
    prices_after: list[float]
    within_range: list[bool]


def check_amounts(amounts: Sequence[float], limit: int = 10_000) -> np.ndarray:
    if not amounts:
        raise BadUserInput("`amounts` is empty: give at least one amount.", argument="amounts")
    if len(amounts) > limit:
        raise BadUserInput(f"`amounts` has {len(amounts)} items; at most {limit}.",
                           argument="amounts")
    values = np.asarray(amounts, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if bad.size:
        index = int(bad[0])
        raise BadUserInput(
            f"amounts[{index}] is {values[index]!r}: an amount must be a finite number > 0.",
            argument="amounts", index=index,
        )
    return values


def _v2(requests: Sequence[QuoteRequest]) -> list[QuoteColumns]:
    amounts = np.concatenate([r.amounts for r in requests])
    sizes = [len(r.amounts) for r in requests]

    def per_amount(values: Sequence[float]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), sizes)

    reserve0 = per_amount([r.pool.reserve0 for r in requests])
    reserve1 = per_amount([r.pool.reserve1 for r in requests])
    sell0 = np.repeat([r.sell_token0 for r in requests], sizes)
    fees = per_amount([r.pool.fee for r in requests])
    reserves_in = np.where(sell0, reserve0, reserve1)
    reserves_out = np.where(sell0, reserve1, reserve0)
    out = np.asarray(
        constant_product_amount_out(
            amounts_in=amounts, reserves_in=reserves_in, reserves_out=reserves_out, fees=fees
        )
    )
    impact = np.asarray(
        constant_product_price_impact(amounts_in=amounts, reserves_in=reserves_in, fees=fees)
    )
    after0 = np.where(sell0, reserve0 + amounts, reserve0 - out)
    after1 = np.where(sell0, reserve1 - out, reserve1 + amounts)
    return _split(requests, amounts, out, impact, after1 / after0, np.ones_like(sell0))


def _v3(requests: Sequence[QuoteRequest]) -> list[QuoteColumns]:
    amounts = np.concatenate([r.amounts for r in requests])
    sizes = [len(r.amounts) for r in requests]
    ranges = []
    for r in requests:
        found = active_range(r.pool)
        if found is None:
            raise BadUserInput(f"Pool {r.pool.id} has no liquidity at its price.",
                               argument="id")
        ranges.append(found)
    bounds = np.asarray(
        sqrt_price_at_tick(
            ticks=np.array([[a.tick_lower, a.tick_upper] for a in ranges], np.float64)
        )
    )
    sqrt_price = np.repeat([r.pool.sqrt_price for r in requests], sizes)
    sell0 = np.repeat([r.sell_token0 for r in requests], sizes)
    swap = concentrated_liquidity_swap(
        amounts_in=amounts,
        sqrt_prices=sqrt_price,
        liquidities=np.repeat([a.liquidity for a in ranges], sizes),
        sqrt_prices_lower=np.repeat(bounds[:, 0], sizes),
        sqrt_prices_upper=np.repeat(bounds[:, 1], sizes),
        zero_for_one=sell0,
        fees=np.repeat([r.pool.fee for r in requests], sizes),
    )
    used = np.asarray(swap.amounts_in_used)
    out = np.asarray(swap.amounts_out)
    mid = np.where(sell0, sqrt_price**2, 1.0 / sqrt_price**2)  # bought per sold at the mid
    impact = 1.0 - out / np.where(used > 0, used, 1.0) / mid
    after = np.asarray(swap.sqrt_prices_after) ** 2
    return _split(requests, used, out, impact, after, np.asarray(swap.within_range))


def _split(
    requests: Sequence[QuoteRequest], used: np.ndarray, out: np.ndarray, impact: np.ndarray,
    after: np.ndarray, within: np.ndarray,
) -> list[QuoteColumns]:
    results, start = [], 0
    for request in requests:
        part = slice(start, start + len(request.amounts))
        start = part.stop
        results.append(
            QuoteColumns(
                used[part].tolist(), out[part].tolist(), impact[part].tolist(),
                after[part].tolist(), within[part].astype(bool).tolist(),
            )
        )
    return results


@engine_call("amm_quotes")
def _quote(requests: Sequence[QuoteRequest]) -> list[QuoteColumns]:
    results: list[QuoteColumns | None] = [None] * len(requests)
    for protocol, compute in ((V2, _v2), (V3, _v3)):
        members = [i for i, r in enumerate(requests) if r.pool.protocol == protocol]
        if members:
            for i, columns in zip(members, compute([requests[i] for i in members]), strict=True):
                results[i] = columns
    return results  # type: ignore[return-value]


@dataclass(eq=False)
class PositionRequest:
    pool: PoolRecord
    tick_lower: int
    tick_upper: int
    liquidity: float


@engine_call("amm_positions")
def _positions(requests: Sequence[PositionRequest]) -> list[tuple[float, float]]:
    bounds = np.asarray(
        sqrt_price_at_tick(
            ticks=np.array([[r.tick_lower, r.tick_upper] for r in requests], np.float64)
        )
    )
    amounts = amounts_for_liquidity(
        sqrt_prices=np.array([r.pool.sqrt_price for r in requests]),
        sqrt_prices_lower=bounds[:, 0],
        sqrt_prices_upper=bounds[:, 1],
        liquidities=np.array([r.liquidity for r in requests]),
    )
    return list(
        zip(np.asarray(amounts.amounts0).tolist(), np.asarray(amounts.amounts1).tolist(),
            strict=True)
    )


@engine_call("impermanent_loss")
def _losses(ratios: Sequence[float]) -> list[float]:
    return np.asarray(impermanent_loss(price_ratios=np.asarray(ratios))).tolist()


async def quote_batches(requests: Sequence[QuoteRequest]) -> list[QuoteColumns]:
    return await asyncio.to_thread(_quote, requests)


async def position_batches(requests: Sequence[PositionRequest]) -> list[tuple[float, float]]:
    return await asyncio.to_thread(_positions, requests)


async def impermanent_loss_batches(ratios: Sequence[float]) -> list[float]:
    return await asyncio.to_thread(_losses, ratios)
