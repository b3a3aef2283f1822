"""`Token.livePrice`: the last tick next to the last daily close.

The last tick is the retained `market.{SYMBOL}` event (the replay's or the exchange stream's);
a process whose bus holds none (restarted, or no stream running) falls back to the last trade
ingestion stored. Both are read for all the request's tokens at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

import strawberry

from nexus.events import EventError, MarketTick, decode, market_channel
from nexus.stores.bus import Bus
from subgraphs.crypto.onchain_repository import OnchainRepository


@strawberry.enum(description="Where a live price was read.")
class LivePriceSource(enum.Enum):
    TICK = strawberry.enum_value(
        "tick", description="The last market tick published (replay or exchange stream)."
    )
    TRADE = strawberry.enum_value(
        "trade", description="The last exchange trade ingestion stored (no tick on the bus)."
    )


@strawberry.type(description="The last traded price of a token (a live tick).")
class LivePrice:
    price: float = strawberry.field(description="The last trade price, US dollars.")
    at: dt.datetime = strawberry.field(
        description="Market time of that trade, UTC (the replay clock's time when replayed)."
    )
    previous_close: float | None = strawberry.field(
        description="The previous day's close, US dollars; null when read from a stored trade."
    )
    change_percent: float | None = strawberry.field(
        description="Percent change of `price` from `previousClose`; null without it."
    )
    source: LivePriceSource = strawberry.field(description="TICK or TRADE.")


async def load_live_prices(
    bus: Bus, onchain: OnchainRepository, symbols: Sequence[str]
) -> list[LivePrice | None]:
    """The live price of each symbol: its retained tick, else its last stored trade."""
    found: dict[str, LivePrice] = {}
    for symbol, event in zip(
        symbols, await bus.last([market_channel(s) for s in symbols]), strict=True
    ):
        try:
            tick = decode(event) if event is not None else None
        except EventError:
            tick = None
        if isinstance(tick, MarketTick):
            found[symbol] = LivePrice(
                price=tick.price, at=tick.at, previous_close=tick.previous_close,
                change_percent=tick.change_percent, source=LivePriceSource.TICK,
            )
    missing = [s for s in symbols if s not in found]
    if missing:
        for symbol, trade in zip(
            missing, await onchain.last_trades(missing), strict=True
        ):
            if trade is not None:
                found[symbol] = LivePrice(
                    price=trade.price, at=trade.at, previous_close=None,
                    change_percent=None, source=LivePriceSource.TRADE,
                )
    return [found.get(symbol) for symbol in symbols]
