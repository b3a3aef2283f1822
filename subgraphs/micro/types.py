"""GraphQL types of the micro subgraph: stocks and the social posts that mention them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size, sliced_by
from subgraphs.candles import Candle, LatestPrice, candle_range
from subgraphs.micro.analytics import StockAnalytics
from subgraphs.micro.influence import InfluencerRecord, Influencers
from subgraphs.micro.loaders import MicroContext
from subgraphs.micro.records import (
    AuthorRecord,
    DailyMentionsRecord,
    LatestPosts,
    PostRecord,
    PostsPageKey,
    PostStats,
    SimilarTo,
    StockRecord,
    checked_limit,
    period,
)
from subgraphs.micro.sec_types import StockFilings
from subgraphs.micro.sentiment import (
    SentimentLabel,
    SentimentProbabilities,
    label_of,
    probabilities_of,
)
from subgraphs.relay import (
    After,
    First,
    Page,
    PageInfo,
    checked_first,
    connection_sized,
    decode_cursor,
    encode_cursor,
    page_info,
    text_part,
    timestamp_part,
)

From = Annotated[
    dt.date | None, strawberry.argument(name="from", description="First day (UTC), inclusive.")
]
To = Annotated[dt.date | None, strawberry.argument(description="Last day (UTC), inclusive.")]
InfluencerLimit = Annotated[
    int, strawberry.argument(description="How many authors at most (1 to 500), best first.")
]
Limit = Annotated[
    int, strawberry.argument(description="Most posts to return, 1 to 500.")
]


@strawberry.type(description="Posts mentioning a stock on one day (UTC).")
class DailyMentions:
    date: dt.date = strawberry.field(description="The day (UTC).")
    posts: int = strawberry.field(description="Number of posts that day mentioning the cashtag.")
    mean_sentiment: float | None = strawberry.field(
        description="Mean sentiment of the day's posts that carry one, in [-1, 1]."
    )


@strawberry.type(
    description="An author who posts about a cashtag: their posts about it in the period, their "
    "tone, and how the price moved on the trading day after they posted."
)
class Influencer:
    author: str = strawberry.field(description="The author's handle.")
    followers: int | None = strawberry.field(
        description="Followers at the time of their latest post; null where not known."
    )
    post_count: int = strawberry.field(description="Their posts mentioning the cashtag.")
    average_sentiment: float | None = strawberry.field(
        description="Mean sentiment of those posts, from -1 (bearish) to 1 (bullish)."
    )
    impact: float | None = strawberry.field(
        description="Impact score: the mean abnormal return of the symbol on the first trading "
        "day after each day they posted (its return less its mean daily return over the "
        "period), a fraction (0.01 = 1%); null with no trading day after their posts."
    )
    impact_standard_error: float | None = strawberry.field(
        description="Standard error of `impact` (sample standard deviation / sqrt(events)), a "
        "fraction; null with fewer than two events."
    )
    events: int = strawberry.field(
        description="Days they posted with a trading day after them: the events behind `impact`."
    )


def influencer_from(record: InfluencerRecord) -> Influencer:
    return Influencer(
        author=record.author,
        followers=record.followers,
        post_count=record.posts,
        average_sentiment=record.mean_sentiment,
        impact=record.impact,
        impact_standard_error=record.impact_standard_error,
        events=record.events,
    )


@strawberry.type(description="An account that posts on X or Reddit, as its source shows it.")
class Author:
    source: str = strawberry.field(description="The source: `x` or `reddit`.")
    handle: str = strawberry.field(
        description="The account's handle on its source (X username, Reddit user name)."
    )
    name: str = strawberry.field(description="Its display name; the handle where none.")
    followers: int | None = strawberry.field(
        description="Accounts following it (X public_metrics.followers_count); null where the "
        "source does not say."
    )
    following: int | None = strawberry.field(
        description="Accounts it follows (X following_count); null where not given."
    )
    posts: int | None = strawberry.field(
        description="Posts it has made on the source (X tweet_count); null where not given."
    )
    seen_at: dt.datetime = strawberry.field(
        description="Time (UTC) of the post these figures came with."
    )


@strawberry.type(description="A post and its cursor in a list of posts.")
class PostEdge:
    node: Post = strawberry.field(description="The post.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this post.")


@strawberry.type(description="A page of posts, newest first (Relay connection).")
class PostConnection:
    edges: list[PostEdge] = strawberry.field(description="The posts of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursors.")


Source = Annotated[
    str | None,
    strawberry.argument(description="Only posts from this source: `x`, `reddit`, `synthetic`."),
]


async def posts_connection(
    context: MicroContext,
    symbol: str,
    source: str | None,
    start: dt.date | None,
    end: dt.date | None,
    first: int,
    after: str | None,
) -> PostConnection:
    cursor = decode_cursor(after, (timestamp_part, text_part))
    key = PostsPageKey(
        period(symbol, start, end),
        source,
        checked_first(first),
        after,
        None if cursor is None else (cursor[0], cursor[1]),
    )
    page: Page[PostRecord] = await context.posts_pages.load(key)
    return PostConnection(
        edges=[
            PostEdge(node=post, cursor=encode_cursor(sort_key))
            for record, sort_key in page.rows
            if (post := post_from(record)) is not None
        ],
        page_info=page_info(page),
    )


@strawberry.federation.type(keys=["id"], description="A social post (an X post, a Reddit comment).")
class Post:
    id: strawberry.ID = strawberry.field(description="The post's id, unique across sources.")
    source: str = strawberry.field(description="Where it was posted: `x`, `reddit`, `synthetic`.")
    author: str = strawberry.field(description="The author's handle.")
    author_followers: int | None = strawberry.field(
        description="The author's followers when posted (accounts); null where unknown."
    )
    text: str = strawberry.field(description="The post's text.")
    created_at: dt.datetime = strawberry.field(description="When it was posted (UTC).")
    cashtags: list[str] = strawberry.field(
        description="The `$TICKER` tags in the text, upper-cased."
    )
    sentiment: float | None = strawberry.field(
        description="The sentiment model's P(positive) - P(negative) for the text, from -1 "
        "(bearish) to 1 (bullish); null where none was scored."
    )
    synthetic: bool = strawberry.field(
        description="True for the demo's generated posts: not real social data."
    )
    sentiment_label: SentimentLabel | None = strawberry.field(
        default=None, description="The text's most probable sentiment; null where not scored."
    )
    sentiment_probabilities: SentimentProbabilities | None = strawberry.field(
        default=None,
        description="The sentiment model's probability of each label; null where not scored.",
    )
    url: str | None = strawberry.field(
        default=None,
        description="Where the post can be read on its source (an X or Reddit permalink); "
        "null for the demo's posts.",
    )

    @strawberry.field(
        description="The author's profile as the source last showed it (followers and more); "
        "null where none was ingested (the demo's posts)."
    )
    async def profile(self, info: Info[MicroContext, None]) -> Author | None:
        record: AuthorRecord | None = await info.context.authors.load((self.source, self.author))
        return None if record is None else Author(
            source=record.source,
            handle=record.handle,
            name=record.name,
            followers=record.followers,
            following=record.following,
            posts=record.posts,
            seen_at=record.seen_at,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[MicroContext, None], id: strawberry.ID
    ) -> Post | None:
        return post_from(await info.context.posts.load(str(id)))

    @strawberry.field(
        description="The posts worded most like this one (vector search).",
        directives=[sliced_by("limit")],
    )
    async def similar(self, info: Info[MicroContext, None], limit: Limit = 5) -> list[Post]:
        key = SimilarTo(str(self.id), self.text, checked_limit(limit))
        ids: list[str] = await info.context.similar_posts.load(key)
        return posts_from(await info.context.posts.load_many(ids))


@strawberry.type(description="The social fields of anything with a cashtag.")
class SocialFootprint:
    """The social fields of anything with a cashtag: a stock here, a token (owned by crypto)."""

    symbol: str

    @strawberry.field(description="How many posts mention the cashtag in the period.")
    async def post_count(
        self, info: Info[MicroContext, None], from_: From = None, to: To = None
    ) -> int:
        stats: PostStats = await info.context.post_stats.load(period(self.symbol, from_, to))
        return stats.posts

    @strawberry.field(
        description="Mean sentiment, in [-1, 1], of the period's posts mentioning the cashtag "
        "that carry one (each post's is the sentiment model's P(positive) - P(negative)); null "
        "when none does."
    )
    async def sentiment(
        self, info: Info[MicroContext, None], from_: From = None, to: To = None
    ) -> float | None:
        stats: PostStats = await info.context.post_stats.load(period(self.symbol, from_, to))
        return stats.mean_sentiment

    @strawberry.field(
        description="The newest posts mentioning the cashtag in the period.",
        directives=[sliced_by("limit")],
    )
    async def posts(
        self, info: Info[MicroContext, None], from_: From = None, to: To = None, limit: Limit = 20
    ) -> list[Post]:
        key = LatestPosts(period(self.symbol, from_, to), checked_limit(limit))
        return posts_from(await info.context.latest_posts.load(key))

    @strawberry.field(
        description="The posts mentioning the cashtag in the period, newest first, as a Relay "
        "connection (page through all of them with `after`).",
        directives=[connection_sized()],
    )
    async def posts_connection(
        self,
        info: Info[MicroContext, None],
        source: Source = None,
        from_: From = None,
        to: To = None,
        first: First = 20,
        after: After = None,
    ) -> PostConnection:
        return await posts_connection(info.context, self.symbol, source, from_, to, first, after)

    @strawberry.field(
        description="The authors posting about the cashtag in the period, ranked by how clearly "
        "the price moved after their posts (|impact| over its standard error, largest first; "
        "authors with fewer than two events last).",
        directives=[sliced_by("limit")],
    )
    async def influencers(
        self,
        info: Info[MicroContext, None],
        from_: From = None,
        to: To = None,
        limit: InfluencerLimit = 10,
    ) -> list[Influencer]:
        key = Influencers(period(self.symbol, from_, to), checked_limit(limit))
        records: list[InfluencerRecord] = await info.context.influencers.load(key)
        return [influencer_from(record) for record in records]

    @strawberry.field(
        description="Posts and mean sentiment per day with a mention, oldest first.",
        directives=[assumed_size(31)],  # demand control: a month of days
    )
    async def mention_volume(
        self, info: Info[MicroContext, None], from_: From = None, to: To = None
    ) -> list[DailyMentions]:
        days: list[DailyMentionsRecord] = await info.context.mention_volumes.load(
            period(self.symbol, from_, to)
        )
        return [
            DailyMentions(date=day.date, posts=day.posts, mean_sentiment=day.mean_sentiment)
            for day in days
        ]


@strawberry.federation.type(keys=["symbol"], description="A listed stock and its social footprint.")
class Stock(SocialFootprint, StockAnalytics, StockFilings):
    symbol: str = strawberry.field(description="Ticker symbol, upper case: GME, AMC, BB.")
    name: str = strawberry.field(description="The company's name.")

    @classmethod
    async def resolve_reference(cls, info: Info[MicroContext, None], symbol: str) -> Stock | None:
        return stock_from(await info.context.stocks.load(symbol.upper()))

    @strawberry.field(
        description="Daily candles between `from` and `to` inclusive, oldest first.",
        directives=[assumed_size(31)],  # demand control: a month of days
    )
    async def candles(
        self, info: Info[MicroContext, None], from_: From = None, to: To = None
    ) -> list[Candle]:
        candles: list[Candle] = await info.context.candles.load(
            candle_range(self.symbol, from_, to)
        )
        return candles

    @strawberry.field(description="The last daily close on record.")
    async def latest_price(self, info: Info[MicroContext, None]) -> LatestPrice | None:
        price: LatestPrice | None = await info.context.latest_prices.load(self.symbol)
        return price


@strawberry.federation.type(
    keys=["symbol"], description="A crypto asset (owned by crypto); here, its social footprint."
)
class Token(SocialFootprint):
    symbol: str = strawberry.field(description="Ticker symbol, upper case: BTC, ETH, USDT.")

    @classmethod
    def resolve_reference(cls, symbol: str) -> Token:
        # Any symbol has a footprint, possibly empty: the token itself is crypto's to know.
        return Token(symbol=symbol.upper())


def stock_from(record: StockRecord | None) -> Stock | None:
    return None if record is None else Stock(symbol=record.symbol, name=record.name)


def post_from(record: PostRecord | None) -> Post | None:
    if record is None:
        return None
    return Post(
        id=strawberry.ID(record.id),
        source=record.source,
        author=record.author,
        author_followers=record.author_followers,
        text=record.text,
        created_at=record.created_at,
        cashtags=list(record.cashtags),
        sentiment=record.sentiment,
        synthetic=record.synthetic,
        sentiment_label=label_of(record.sentiment_probabilities),
        sentiment_probabilities=probabilities_of(record.sentiment_probabilities),
        url=record.url or None,
    )


def posts_from(records: Iterable[PostRecord | None]) -> list[Post]:
    return [post for record in records if (post := post_from(record)) is not None]
