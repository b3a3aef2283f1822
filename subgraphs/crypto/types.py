"""GraphQL types of the crypto subgraph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size
from subgraphs.candles import Candle, LatestPrice, candle_range
from subgraphs.crypto.live_price import LivePrice
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.repository import TokenRecord
from subgraphs.crypto.token_analytics import TokenAnalytics


@strawberry.federation.type(keys=["symbol"], description="A crypto asset priced in US dollars.")
class Token(TokenAnalytics):
    symbol: str = strawberry.field(description="Ticker symbol, upper case: BTC, ETH, USDT.")
    name: str = strawberry.field(description="The asset's name, e.g. Bitcoin.")
    kind: str = strawberry.field(description="`coin` or `stablecoin`.")

    @classmethod
    async def resolve_reference(cls, info: Info[CryptoContext, None], symbol: str) -> Token | None:
        return from_record(await info.context.tokens.load(symbol.upper()))

    @strawberry.field(
        description="Daily candles between `from` and `to` inclusive, oldest first.",
        directives=[assumed_size(31)],  # demand control: a month of days
    )
    async def candles(
        self,
        info: Info[CryptoContext, None],
        from_: Annotated[
            dt.date | None,
            strawberry.argument(name="from", description="First day, inclusive; open if null."),
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Last day, inclusive; open if null.")
        ] = None,
    ) -> list[Candle]:
        candles: list[Candle] = await info.context.candles.load(
            candle_range(self.symbol, from_, to)
        )
        return candles

    @strawberry.field(description="The last daily close on record.")
    async def latest_price(self, info: Info[CryptoContext, None]) -> LatestPrice | None:
        price: LatestPrice | None = await info.context.latest_prices.load(self.symbol)
        return price

    @strawberry.field(
        description="The last tick: the live trade price next to `latestPrice`'s last daily "
        "close; null when no tick or trade is on record."
    )
    async def live_price(self, info: Info[CryptoContext, None]) -> LivePrice | None:
        price: LivePrice | None = await info.context.live_prices.load(self.symbol)
        return price


def from_record(record: TokenRecord | None) -> Token | None:
    if record is None:
        return None
    return Token(symbol=record.symbol, name=record.name, kind=record.kind)
