"""The micro subgraph's root fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost, ListSize
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from nexus.demand import assumed_size, sliced_by
from nexus.graphql_errors import SubgraphSchema
from subgraphs.columns import COLUMN_SCALARS
from subgraphs.micro.analytics import NetworkQuery
from subgraphs.micro.influence import Influencers
from subgraphs.micro.live import Subscription
from subgraphs.micro.loaders import MicroContext
from subgraphs.micro.records import LatestPosts, checked_limit, period
from subgraphs.micro.sentiment import MAX_TEXT_CHARACTERS, MAX_TEXTS, TextSentiment, score_texts
from subgraphs.micro.types import (
    From,
    Influencer,
    InfluencerLimit,
    Limit,
    Post,
    PostConnection,
    Source,
    Stock,
    To,
    Token,
    influencer_from,
    post_from,
    posts_connection,
    posts_from,
    stock_from,
)
from subgraphs.relay import After, First, connection_sized


@strawberry.type(description="The entry points for reading data.")
class Query(NetworkQuery):
    @strawberry.field(description="A stock by ticker symbol (case-insensitive); null if unknown.")
    async def stock(
        self,
        info: Info[MicroContext, None],
        symbol: Annotated[str, strawberry.argument(description="Ticker symbol, e.g. GME.")],
    ) -> Stock | None:
        return stock_from(await info.context.stocks.load(symbol.upper()))

    @strawberry.field(
        description="Every stock on record, by symbol.",
        directives=[assumed_size(50)],  # demand control: about the demo's stocks
    )
    async def stocks(self, info: Info[MicroContext, None]) -> list[Stock]:
        records = await info.context.repository.all_stocks()
        return [stock for record in records if (stock := stock_from(record)) is not None]

    @strawberry.field(description="A post by id; null if unknown.")
    async def post(
        self,
        info: Info[MicroContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The post's id.")],
    ) -> Post | None:
        return post_from(await info.context.posts.load(str(id)))

    @strawberry.field(
        description="The newest posts in the period, newest first; only those tagging "
        "`cashtag` (case-insensitive, with or without `$`) when given.",
        directives=[sliced_by("limit")],
    )
    async def posts(
        self,
        info: Info[MicroContext, None],
        cashtag: Annotated[
            str | None,
            strawberry.argument(description="Only posts tagging this cashtag, e.g. GME or $GME."),
        ] = None,
        from_: From = None,
        to: To = None,
        limit: Limit = 20,
    ) -> list[Post]:
        checked_limit(limit)
        if cashtag is None:
            window = period("", from_, to)
            return posts_from(
                await info.context.repository.latest_posts_overall(window.start, window.end, limit)
            )
        key = LatestPosts(period(cashtag.removeprefix("$").upper(), from_, to), limit)
        return posts_from(await info.context.latest_posts.load(key))

    @strawberry.field(
        description="Every post tagging `cashtag` in the period, newest first, from X, Reddit "
        "or the demo, as a Relay connection (page through them with `after`).",
        directives=[connection_sized()],
    )
    async def posts_by_cashtag(
        self,
        info: Info[MicroContext, None],
        cashtag: Annotated[
            str,
            strawberry.argument(description="The cashtag (case-insensitive, with or without "
                                "`$`), e.g. GME or $GME."),
        ],
        source: Source = None,
        from_: From = None,
        to: To = None,
        first: First = 20,
        after: After = None,
    ) -> PostConnection:
        symbol = cashtag.removeprefix("$").upper()
        return await posts_connection(info.context, symbol, source, from_, to, first, after)

    @strawberry.field(
        description="The authors posting about `symbol` (a cashtag, case-insensitive, with or "
        "without `$`) in the period, ranked by how clearly the price moved after their posts; "
        "see `Influencer.impact`.",
        directives=[sliced_by("limit")],
    )
    async def influencers(
        self,
        info: Info[MicroContext, None],
        symbol: Annotated[str, strawberry.argument(description="The cashtag, e.g. `GME`.")],
        from_: From = None,
        to: To = None,
        limit: InfluencerLimit = 10,
    ) -> list[Influencer]:
        key = Influencers(
            period(symbol.removeprefix("$").upper(), from_, to), checked_limit(limit)
        )
        return [influencer_from(record) for record in await info.context.influencers.load(key)]

    @strawberry.federation.field(
        description="The sentiment of your own texts (news sentences or social posts), in the "
        "order given, from the same model that scores stored posts. One model call per request.",
        directives=[
            Cost(weight=2),
            ListSize(
                assumed_size=MAX_TEXTS,
                # UNSET, not None: the argument is left out of the SDL rather than printed null.
                slicing_arguments=strawberry.UNSET,
                sized_fields=strawberry.UNSET,
                require_one_slicing_argument=False,
            ),
        ],
    )
    async def sentiment(
        self,
        texts: Annotated[
            list[str],
            strawberry.argument(
                description=f"At most {MAX_TEXTS} non-empty texts; each is read up to "
                f"{MAX_TEXT_CHARACTERS} characters (128 word pieces)."
            ),
        ],
    ) -> list[TextSentiment]:
        return await score_texts(texts)


schema = SubgraphSchema(
    query=Query,
    subscription=Subscription,
    types=[Stock, Token, Post],
    config=StrawberryConfig(scalar_map=COLUMN_SCALARS),
)
