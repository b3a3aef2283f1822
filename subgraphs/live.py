"""Reading the bus from a subscription resolver: typed events, closed when the client goes.

A resolver writes `async for event in events(bus, MarketTick, *channels)`; when the client
unsubscribes or disconnects, Strawberry closes the resolver's generator, and the `finally` below
releases the bus subscription, so nothing outlives the client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Generic, TypeVar

from nexus.errors import BadUserInput
from nexus.events import EventError, decode, market_channel
from nexus.metrics import observe_bus_lag
from nexus.stores.bus import Bus, Subscription

log = logging.getLogger("subgraphs.live")

E = TypeVar("E")

MAX_SYMBOLS = 50


class EventStream(Generic[E]):
    """The events of type `kind` published on some channels, in order, from `open` on."""

    def __init__(self, subscription: Subscription, kind: type[E]) -> None:
        self.subscription = subscription
        self.kind = kind

    @classmethod
    async def open(cls, bus: Bus, kind: type[E], *patterns: str) -> EventStream[E]:
        return cls(await bus.subscribe(*patterns), kind)

    async def __aiter__(self) -> AsyncIterator[E]:
        async for message in self.subscription:
            try:
                event = decode(message.event)
            except EventError as error:
                log.warning("skipped an event: %s", error, extra={"channel": message.channel})
                continue
            if isinstance(event, self.kind):
                published_at = getattr(event, "published_at", None)
                if isinstance(published_at, int | float) and published_at > 0:
                    observe_bus_lag(message.channel, published_at)
                yield event

    async def close(self) -> None:
        await self.subscription.close()


async def events(bus: Bus, kind: type[E], *patterns: str) -> AsyncIterator[E]:
    """`EventStream` as a generator: the bus subscription ends when the generator does."""
    stream = await EventStream.open(bus, kind, *patterns)
    try:
        async for event in stream:
            yield event
    finally:
        await stream.close()


def symbol_list(symbols: Iterable[str], argument: str = "symbols") -> list[str]:
    """Upper-cased tickers without `$` or repeats, in the caller's order; 1 to MAX_SYMBOLS."""
    wanted = list(dict.fromkeys(s.strip().removeprefix("$").upper() for s in symbols))
    if not wanted or len(wanted) > MAX_SYMBOLS:
        raise BadUserInput(
            f"`{argument}` takes 1 to {MAX_SYMBOLS} symbols, not {len(wanted)}.",
            argument=argument,
        )
    malformed = [s for s in wanted if not (s.isalnum() and len(s) <= 12)]
    if malformed:
        raise BadUserInput(
            f"Not a ticker symbol: {', '.join(malformed)} (letters and digits, up to 12).",
            argument=argument,
        )
    return wanted


async def unknown_symbols(bus: Bus, symbols: list[str], known: list[bool]) -> list[str]:
    """Those of `symbols` neither `known` to the subgraph nor with a last tick on the bus."""
    candidates = [s for s, ok in zip(symbols, known, strict=True) if not ok]
    if not candidates:
        return []
    last = await bus.last([market_channel(s) for s in candidates])
    return [s for s, tick in zip(candidates, last, strict=True) if tick is None]
