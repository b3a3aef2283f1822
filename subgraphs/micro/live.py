"""The micro subgraph's live fields: mention spikes and posts by influential accounts.

Posts arrive on `social.posts` as they are posted; the mention-spike detector publishes on
`alert.mentions.{SYMBOL}`. Filters are the subscription's arguments, applied here, so a client
only receives what it asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.errors import BadUserInput
from nexus.events import SOCIAL_CHANNEL, MentionSpike, SocialPost, mentions_channel
from subgraphs.live import events, symbol_list, unknown_symbols
from subgraphs.micro.loaders import MicroContext
from subgraphs.micro.types import Post, Stock, stock_from


@strawberry.type(description="Posts mentioning a cashtag in the last window, far above usual.")
class MentionSpikeAlert:
    symbol: str = strawberry.field(description="The cashtag's ticker symbol, upper case.")
    mentions: int = strawberry.field(description="Posts in the window that just closed.")
    baseline: float = strawberry.field(description="The usual posts per window.")
    ratio: float = strawberry.field(description="`mentions` over `baseline`.")
    window_seconds: float = strawberry.field(description="Length of the window (market time).")
    at: dt.datetime = strawberry.field(description="Market time the window closed.")
    published_at: dt.datetime = strawberry.field(description="When the alert was published.")

    @strawberry.field(description="The stock, when the cashtag is a stock on record.")
    async def stock(self, info: Info[MicroContext, None]) -> Stock | None:
        return stock_from(await info.context.stocks.load(self.symbol))


async def known_symbols(context: MicroContext, symbols: list[str]) -> list[str]:
    """`symbols` checked: stocks micro knows, or symbols with market data on the bus."""
    wanted = symbol_list(symbols)
    stocks = await context.stocks.load_many(wanted)
    unknown = await unknown_symbols(context.bus, wanted, [s is not None for s in stocks])
    if unknown:
        raise BadUserInput(
            f"Unknown symbol(s): {', '.join(unknown)}; query `stocks` for the symbols on record.",
            argument="symbols",
        )
    return wanted


def _post(event: SocialPost) -> Post:
    return Post(
        id=strawberry.ID(event.id),
        source=event.source,
        author=event.author,
        author_followers=event.author_followers,
        text=event.text,
        created_at=event.created_at,
        cashtags=list(event.cashtags),
        sentiment=event.sentiment,
        synthetic=event.synthetic,
    )


SYMBOLS = strawberry.argument(description="Ticker symbols to follow (case-insensitive), e.g. GME.")


@strawberry.type(description="Live streams, over WebSocket or Server-Sent Events.")
class Subscription:
    @strawberry.subscription(
        description="An alert when posts mentioning one of `symbols` run at `minRatio` times "
        "their usual rate or more."
    )
    async def mention_spikes(
        self,
        info: Info[MicroContext, None],
        symbols: Annotated[list[str], SYMBOLS],
        min_ratio: Annotated[
            float,
            strawberry.argument(
                description="Smallest ratio of a window's posts to the usual count that alerts "
                "(1-1000; 3 means three times the usual rate)."
            ),
        ] = 3.0,
    ) -> AsyncGenerator[MentionSpikeAlert, None]:
        if not 1 <= min_ratio <= 1000:
            raise BadUserInput("`minRatio` must be between 1 and 1000.", argument="minRatio")
        wanted = await known_symbols(info.context, symbols)
        channels = [mentions_channel(s) for s in wanted]
        async for spike in events(info.context.bus, MentionSpike, *channels):
            if spike.ratio >= min_ratio:
                yield MentionSpikeAlert(
                    symbol=spike.symbol,
                    mentions=spike.mentions,
                    baseline=spike.baseline,
                    ratio=spike.ratio,
                    window_seconds=spike.window_seconds,
                    at=spike.at,
                    published_at=dt.datetime.fromtimestamp(spike.published_at, dt.UTC),
                )

    @strawberry.subscription(
        description="New posts by accounts with at least `minFollowers` followers; only those "
        "tagging one of `symbols` when given."
    )
    async def influencer_posts(
        self,
        info: Info[MicroContext, None],
        symbols: Annotated[list[str] | None, SYMBOLS] = None,
        min_followers: Annotated[
            int, strawberry.argument(description="Fewest followers (accounts) an author needs.")
        ] = 100_000,
    ) -> AsyncGenerator[Post, None]:
        if min_followers < 0:
            raise BadUserInput("`minFollowers` must not be negative.", argument="minFollowers")
        wanted = None if symbols is None else set(await known_symbols(info.context, symbols))
        async for post in events(info.context.bus, SocialPost, SOCIAL_CHANNEL):
            if (post.author_followers or 0) < min_followers:
                continue
            if wanted is not None and wanted.isdisjoint(post.cashtags):
                continue
            yield _post(post)
