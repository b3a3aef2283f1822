"""The crypto subgraph's live fields: market ticks of tokens and stocks, and price alerts.

The market stream carries every instrument the market feed publishes (tokens and stocks), so
one subscription can follow BTC and GME together. A symbol is accepted when crypto knows it as
a token or when the bus holds a last tick for it (a stock the feed publishes); anything else is
refused before the stream starts. Each update names its instrument as an entity reference
(`token` here, `stock` owned by micro), so the router can add other subgraphs' fields per event.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.types import Info

from nexus.errors import BadUserInput
from nexus.events import MarketTick, WhaleTransfer, market_channel, whale_channel
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.onchain_types import Transfer, checked_usd, transfer_from
from subgraphs.crypto.types import Token, from_record
from subgraphs.live import events, symbol_list, unknown_symbols

ALL_WHALES = whale_channel("*")


@strawberry.enum(description="What kind of instrument a symbol is.")
class AssetClass(enum.Enum):
    CRYPTO = strawberry.enum_value("crypto", description="A crypto asset (a `Token`).")
    STOCK = strawberry.enum_value("stock", description="A listed stock (a `Stock`).")


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("symbol"), resolvable=False)],
    description="A listed stock followed for social signals (owned by micro).",
)
class Stock:
    symbol: str = strawberry.field(description="Ticker symbol, upper case: GME, AMC, BB.")


@strawberry.type(description="A trade price of one instrument, with the day's figures so far.")
class MarketUpdate:
    symbol: str = strawberry.field(description="Ticker symbol of the instrument, upper case.")
    asset_class: AssetClass = strawberry.field(description="Whether it is a token or a stock.")
    price: float = strawberry.field(description="The trade price, US dollars.")
    open: float = strawberry.field(description="The day's opening price, US dollars.")
    high: float = strawberry.field(description="The day's highest price so far, US dollars.")
    low: float = strawberry.field(description="The day's lowest price so far, US dollars.")
    previous_close: float = strawberry.field(
        description="The previous trading day's close, US dollars."
    )
    change: float = strawberry.field(description="`price` minus `previousClose`, US dollars.")
    change_percent: float = strawberry.field(description="`change` in percent of previousClose.")
    volume: float = strawberry.field(description="Traded so far today, in units of the symbol.")
    at: dt.datetime = strawberry.field(
        description="Market time of the trade (the replay clock's time when replayed)."
    )
    published_at: dt.datetime = strawberry.field(description="When the update was published.")

    @strawberry.field(description="The token, when the symbol is a crypto asset.")
    async def token(self, info: Info[CryptoContext, None]) -> Token | None:
        if self.asset_class is not AssetClass.CRYPTO:
            return None
        return from_record(await info.context.tokens.load(self.symbol))

    @strawberry.field(description="The stock (owned by micro), when the symbol is a stock.")
    def stock(self) -> Stock | None:
        return Stock(symbol=self.symbol) if self.asset_class is AssetClass.STOCK else None


@strawberry.enum(description="Which way a price moved.")
class Direction(enum.Enum):
    UP = strawberry.enum_value("up", description="Above the previous close.")
    DOWN = strawberry.enum_value("down", description="Below the previous close.")


@strawberry.type(description="A price that moved at least the threshold from the previous close.")
class PriceAlert:
    symbol: str = strawberry.field(description="Ticker symbol of the instrument, upper case.")
    direction: Direction = strawberry.field(description="Whether the price rose or fell.")
    threshold_percent: float = strawberry.field(
        description="The subscription's threshold, percent of the previous close."
    )
    update: MarketUpdate = strawberry.field(description="The tick that crossed the threshold.")


SYMBOLS = strawberry.argument(
    description="Ticker symbols of tokens or stocks to follow (case-insensitive), e.g. BTC, GME."
)


def market_update(tick: MarketTick) -> MarketUpdate:
    return MarketUpdate(
        symbol=tick.symbol,
        asset_class=AssetClass(tick.asset_class),
        price=tick.price,
        open=tick.open,
        high=tick.high,
        low=tick.low,
        previous_close=tick.previous_close,
        change=tick.change,
        change_percent=tick.change_percent,
        volume=tick.volume,
        at=tick.at,
        published_at=dt.datetime.fromtimestamp(tick.published_at, dt.UTC),
    )


async def known_symbols(context: CryptoContext, symbols: list[str]) -> list[str]:
    """`symbols` checked: tokens crypto knows, or symbols with a tick on the bus."""
    wanted = symbol_list(symbols)
    tokens = await context.tokens.load_many(wanted)
    unknown = await unknown_symbols(context.bus, wanted, [t is not None for t in tokens])
    if unknown:
        raise BadUserInput(
            f"Unknown symbol(s): {', '.join(unknown)}. No market data is published for them; "
            "query `tokens` and `stocks` for the symbols on record.",
            argument="symbols",
        )
    return wanted


@strawberry.type(description="Live streams, over WebSocket or Server-Sent Events.")
class Subscription:
    @strawberry.subscription(
        description='Live trades of the given tokens and stocks (e.g. ["BTC", "GME"]), '
        "in the order they are published."
    )
    async def market_updates(
        self, info: Info[CryptoContext, None], symbols: Annotated[list[str], SYMBOLS]
    ) -> AsyncGenerator[MarketUpdate, None]:
        wanted = await known_symbols(info.context, symbols)
        async for tick in events(info.context.bus, MarketTick, *map(market_channel, wanted)):
            yield market_update(tick)

    @strawberry.subscription(
        description="An alert each time a symbol's price moves `thresholdPercent` or more from "
        "the previous close (again only after it has come back within half the threshold)."
    )
    async def price_alerts(
        self,
        info: Info[CryptoContext, None],
        symbols: Annotated[list[str], SYMBOLS],
        threshold_percent: Annotated[
            float,
            strawberry.argument(
                description="Smallest move that alerts, percent of the previous close (0-1000]."
            ),
        ] = 5.0,
    ) -> AsyncGenerator[PriceAlert, None]:
        if not 0 < threshold_percent <= 1000:
            raise BadUserInput(
                "`thresholdPercent` must be above 0 and at most 1000.", argument="thresholdPercent"
            )
        wanted = await known_symbols(info.context, symbols)
        armed = dict.fromkeys(wanted, True)
        async for tick in events(info.context.bus, MarketTick, *map(market_channel, wanted)):
            moved = abs(tick.change_percent)
            if armed.get(tick.symbol) and moved >= threshold_percent:
                armed[tick.symbol] = False
                yield PriceAlert(
                    symbol=tick.symbol,
                    direction=Direction.UP if tick.change > 0 else Direction.DOWN,
                    threshold_percent=threshold_percent,
                    update=market_update(tick),
                )
            elif moved < threshold_percent / 2:
                armed[tick.symbol] = True

    @strawberry.subscription(
        description="ERC-20 transfers worth at least the ingestion's whale threshold "
        "(NEXUS_WHALE_USD), as Ethereum ingestion stores them; optionally only some tokens "
        "or a higher `minValueUsd`."
    )
    async def whale_transfers(
        self,
        info: Info[CryptoContext, None],
        tokens: Annotated[
            list[str] | None,
            strawberry.argument(description="Token symbols to follow (USDT, WETH); null: all."),
        ] = None,
        min_value_usd: Annotated[
            float | None,
            strawberry.argument(
                description="Only transfers worth at least this, US dollars; null: every "
                "whale alert."
            ),
        ] = None,
    ) -> AsyncGenerator[Transfer, None]:
        floor = checked_usd(min_value_usd, "minValueUsd") or 0.0
        channels = (
            [whale_channel(t) for t in symbol_list(tokens, "tokens")]
            if tokens is not None
            else [ALL_WHALES]
        )
        async for transfer in events(info.context.bus, WhaleTransfer, *channels):
            if transfer.value_usd >= floor:
                yield transfer_from(transfer)
