"""GraphQL types of Uniswap v2 and v3 liquidity pools (demo pools are synthetic)."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import math
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput
from subgraphs.candles import Candle, candle_range
from subgraphs.columns import FloatColumn, column
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.pool_engine import (
    V2,
    PositionRequest,
    QuoteColumns,
    QuoteRequest,
    active_range,
    check_amounts,
    current_tick,
)
from subgraphs.crypto.pool_record import PoolRecord

MAX_TICK = 887272


@strawberry.enum(description="The AMM design of a pool.")
class PoolProtocol(enum.Enum):
    UNISWAP_V2 = strawberry.enum_value("uniswap_v2", description="Constant product x y = k.")
    UNISWAP_V3 = strawberry.enum_value(
        "uniswap_v3", description="Concentrated liquidity in tick ranges."
    )


@strawberry.enum(description="A side of a pool's pair.")
class PoolSide(enum.Enum):
    TOKEN0 = strawberry.enum_value("token0", description="The pool's first token.")
    TOKEN1 = strawberry.enum_value("token1", description="The pool's second (quote) token.")


@strawberry.type(description="Liquidity provided between two ticks of a v3 pool.")
class LiquidityRange:
    tick_lower: int = strawberry.field(description="Lowest tick (price 1.0001^tick).")
    tick_upper: int = strawberry.field(description="Tick above the range (exclusive).")
    price_lower: float = strawberry.field(description="Price at tickLower, token1 per token0.")
    price_upper: float = strawberry.field(description="Price at tickUpper, token1 per token0.")
    liquidity: float = strawberry.field(
        description="Liquidity L (units of sqrt(token0 x token1)) added on the range."
    )


@strawberry.type(
    description="Exact-input swaps quoted independently against the pool's current state "
    "(a price-impact curve): parallel columns, entry i for amounts[i]."
)
class SwapQuotes:
    sell: str = strawberry.field(description="Symbol of the token sold.")
    buy: str = strawberry.field(description="Symbol of the token bought.")
    amounts_in: FloatColumn = strawberry.field(description="Tokens offered, fee included.")
    amounts_in_used: FloatColumn = strawberry.field(
        description="Tokens actually swapped: less than offered where a v3 swap would leave "
        "the active liquidity range (see withinRange)."
    )
    amounts_out: FloatColumn = strawberry.field(description="Tokens received.")
    execution_prices: FloatColumn = strawberry.field(
        description="Tokens bought per token sold (amountOut / amountInUsed)."
    )
    price_impacts: FloatColumn = strawberry.field(
        description="Shortfall of the execution price from the mid price, fee included, as a "
        "fraction (0.01 = 1%)."
    )
    prices_after: FloatColumn = strawberry.field(
        description="Pool price after the swap, token1 per token0."
    )
    within_range: list[bool] = strawberry.field(
        description="False where a v3 swap stopped at the active range's edge (always true "
        "for v2)."
    )


@strawberry.type(description="Token amounts a v3 position holds at the pool's price.")
class PositionAmounts:
    tick_lower: int = strawberry.field(description="Lowest tick of the position.")
    tick_upper: int = strawberry.field(description="Tick above the position (exclusive).")
    liquidity: float = strawberry.field(description="Liquidity L of the position.")
    amount0: float = strawberry.field(description="Token0 held.")
    amount1: float = strawberry.field(description="Token1 held.")
    value_in_token1: float = strawberry.field(
        description="amount0 at the pool price plus amount1, in token1."
    )


@strawberry.type(
    description="Impermanent loss of a full-range (v2-style) position between two days, from "
    "the real daily closes of the pair's tokens (fees ignored)."
)
class ImpermanentLoss:
    from_: dt.date = strawberry.field(name="from", description="Day of the deposit.")
    to: dt.date = strawberry.field(description="Day of the valuation.")
    price_from: float = strawberry.field(description="token1 per token0 at `from`'s close.")
    price_to: float = strawberry.field(description="token1 per token0 at `to`'s close.")
    price_ratio: float = strawberry.field(description="priceTo / priceFrom.")
    loss: float = strawberry.field(
        description="LP value over the value of holding the deposit, minus 1: a fraction "
        "<= 0 (-0.05 = 5% worse than holding)."
    )


async def _close_on(context: CryptoContext, symbol: str, day: dt.date, argument: str) -> float:
    candles: list[Candle] = await context.candles.load(candle_range(symbol, day, day))
    if not candles:
        raise BadUserInput(f"No {symbol} close on {day}: pick a day with data.", argument=argument)
    return candles[0].close


@strawberry.federation.type(
    keys=["id"],
    description="A Uniswap liquidity pool of two tokens. The demo's pools are synthetic "
    "(seeded from real closes); others are read from the chain's Sync/Swap/Mint/Burn events.",
)
class LiquidityPool:
    id: strawberry.ID = strawberry.field(
        description="Pool id: protocol, pair and fee tier (`uniswap-v3-eth-usdt-0.3`) for "
        "synthetic pools, the contract address (0x, lower case) for pools read from the chain."
    )
    protocol: PoolProtocol = strawberry.field(description="UNISWAP_V2 or UNISWAP_V3.")
    token0: str = strawberry.field(description="Symbol of the first token.")
    token1: str = strawberry.field(description="Symbol of the second (quote) token.")
    fee: float = strawberry.field(description="Swap fee as a fraction (0.003 = 0.3%).")
    synthetic: bool = strawberry.field(
        description="True for demo pools seeded from real prices, not on-chain state."
    )
    seeded_on: dt.date = strawberry.field(
        description="Day whose closes priced the pool (chain pools: day of the last event)."
    )
    record: strawberry.Private[PoolRecord]

    @strawberry.field(description="The pool contract, 0x lower case; null for synthetic pools.")
    def address(self) -> str | None:
        return self.record.address

    @strawberry.field(
        description="Height of the block of the last event applied; null for synthetic pools."
    )
    def block_number(self) -> int | None:
        return self.record.block_number

    @strawberry.field(
        description="Timestamp (UTC) of the block of the last event; null for synthetic pools."
    )
    def updated_at(self) -> dt.datetime | None:
        return self.record.updated_at

    @classmethod
    async def resolve_reference(
        cls, info: Info[CryptoContext, None], id: strawberry.ID
    ) -> LiquidityPool | None:
        return pool_from(await info.context.pools.load(str(id)))

    @strawberry.field(description="Mid price, token1 per token0.")
    def price(self) -> float:
        if self.record.protocol == V2:
            return self.record.reserve1 / self.record.reserve0
        return self.record.sqrt_price**2

    @strawberry.field(description="v2: token0 in the pool, token units; null for v3.")
    def reserve0(self) -> float | None:
        return self.record.reserve0 if self.record.protocol == V2 else None

    @strawberry.field(description="v2: token1 in the pool, token units; null for v3.")
    def reserve1(self) -> float | None:
        return self.record.reserve1 if self.record.protocol == V2 else None

    @strawberry.field(description="v3: the tick of the current price; null for v2.")
    def tick(self) -> int | None:
        return None if self.record.protocol == V2 else current_tick(self.record)

    @strawberry.field(
        description="v3: liquidity L active at the current price (units of sqrt(token0 x "
        "token1)); chain pools: the last Swap's value plus the liquidity of Mints and Burns "
        "since on ranges holding the current tick; null for v2."
    )
    def liquidity(self) -> float | None:
        if self.record.protocol == V2:
            return None
        if self.record.active_liquidity is not None:
            return self.record.active_liquidity
        found = active_range(self.record)
        return 0.0 if found is None else found.liquidity

    @strawberry.field(
        description="v3: the liquidity ranges (ticks); empty for v2.",
        directives=[assumed_size(8)],  # demand control: a few positions per pool
    )
    def ranges(self) -> list[LiquidityRange]:
        return [
            LiquidityRange(
                tick_lower=lower, tick_upper=upper, price_lower=1.0001**lower,
                price_upper=1.0001**upper, liquidity=liquidity,
            )
            for lower, upper, liquidity in zip(
                self.record.range_lower, self.record.range_upper, self.record.range_liquidity,
                strict=True,
            )
        ]

    @strawberry.field(
        description="Quotes for selling each amount of one token (both directions: pick "
        "`sell`), with price impact; one engine call for every quote of the request.",
        directives=[Cost(weight=5)],
    )
    async def quotes(
        self,
        info: Info[CryptoContext, None],
        sell: Annotated[PoolSide, strawberry.argument(description="The token sold.")],
        amounts: Annotated[
            list[float],
            strawberry.argument(description="Amounts of the sold token, each > 0; at most "
                                "10,000."),
        ],
    ) -> SwapQuotes | None:
        values = check_amounts(amounts)
        sell0 = sell is PoolSide.TOKEN0
        columns: QuoteColumns = await info.context.pool_quotes.load(
            QuoteRequest(self.record, values, sell0)
        )
        return SwapQuotes(
            sell=self.token0 if sell0 else self.token1,
            buy=self.token1 if sell0 else self.token0,
            amounts_in=values.tolist(),
            amounts_in_used=column(columns.amounts_in_used),
            amounts_out=column(columns.amounts_out),
            execution_prices=column([
                out / used if used > 0 else 0.0
                for out, used in zip(columns.amounts_out, columns.amounts_in_used, strict=True)
            ]),
            price_impacts=column(columns.price_impacts),
            prices_after=column(columns.prices_after),
            within_range=columns.within_range,
        )

    @strawberry.field(
        description="v3: the tokens a position of `liquidity` on a tick range holds at the "
        "current price.",
        directives=[Cost(weight=2)],
    )
    async def position(
        self,
        info: Info[CryptoContext, None],
        tick_lower: Annotated[int, strawberry.argument(description="Lowest tick.")],
        tick_upper: Annotated[int, strawberry.argument(description="Tick above the range.")],
        liquidity: Annotated[float, strawberry.argument(description="Liquidity L, > 0.")],
    ) -> PositionAmounts | None:
        if self.record.protocol == V2:
            raise BadUserInput("Positions on tick ranges exist on v3 pools only.",
                               argument="tickLower")
        if not -MAX_TICK <= tick_lower < tick_upper <= MAX_TICK:
            raise BadUserInput(
                f"Ticks must satisfy -{MAX_TICK} <= tickLower < tickUpper <= {MAX_TICK}; got "
                f"{tick_lower}, {tick_upper}.", argument="tickLower",
            )
        if not (math.isfinite(liquidity) and liquidity > 0):
            raise BadUserInput(f"liquidity={liquidity} must be finite and > 0.",
                               argument="liquidity")
        amount0, amount1 = await info.context.pool_positions.load(
            PositionRequest(self.record, tick_lower, tick_upper, liquidity)
        )
        return PositionAmounts(
            tick_lower=tick_lower, tick_upper=tick_upper, liquidity=liquidity,
            amount0=amount0, amount1=amount1,
            value_in_token1=amount0 * self.record.sqrt_price**2 + amount1,
        )

    @strawberry.field(
        description="Impermanent loss between two days from real closes.",
        directives=[Cost(weight=2)],
    )
    async def impermanent_loss(
        self,
        info: Info[CryptoContext, None],
        from_: Annotated[
            dt.date, strawberry.argument(name="from", description="Day of the deposit.")
        ],
        to: Annotated[dt.date, strawberry.argument(description="Day of the valuation.")],
    ) -> ImpermanentLoss | None:
        if from_ > to:
            raise BadUserInput(f"`from` ({from_}) is after `to` ({to}): swap them.",
                               argument="from")
        context = info.context
        # Gathered, so the four closes are one batch of the candles loader.
        base_from, quote_from, base_to, quote_to = await asyncio.gather(
            _close_on(context, self.token0, from_, "from"),
            _close_on(context, self.token1, from_, "from"),
            _close_on(context, self.token0, to, "to"),
            _close_on(context, self.token1, to, "to"),
        )
        start, end = base_from / quote_from, base_to / quote_to
        loss: float = await context.impermanent_losses.load(end / start)
        return ImpermanentLoss(
            from_=from_, to=to, price_from=start, price_to=end, price_ratio=end / start,
            loss=loss,
        )


def pool_from(record: PoolRecord | None) -> LiquidityPool | None:
    if record is None:
        return None
    return LiquidityPool(
        id=strawberry.ID(record.id),
        protocol=PoolProtocol(record.protocol),
        token0=record.token0,
        token1=record.token1,
        fee=record.fee,
        synthetic=record.synthetic,
        seeded_on=record.seeded_on,
        record=record,
    )

