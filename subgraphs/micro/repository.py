"""Every read of the micro stores, batched: one query per DataLoader batch.

Per-ticker reads group their keys by the arguments they share (the period, the limit), so a
batch of any number of stocks asked the same thing is one query. Reads use `FINAL` so a row
ingested twice and not yet merged is still counted once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence

import numpy as np

from nexus.stores.analytics import AnalyticsStore, Row
from nexus.stores.vectors import VectorStore
from subgraphs.candles import Candle, CandleRange, LatestPrice, load_candles, load_latest_prices
from subgraphs.micro.ddl import DATABASE
from subgraphs.micro.embedding import analyse, text_key
from subgraphs.micro.influence import (
    AuthorActivity,
    InfluencerRecord,
    Influencers,
    rank_influencers,
)
from subgraphs.micro.records import (
    EARLIEST,
    LATEST,
    AuthorRecord,
    DailyMentionsRecord,
    LatestPosts,
    Period,
    PostRecord,
    PostsPageKey,
    PostStats,
    SimilarTo,
    StockRecord,
)
from subgraphs.relay import Page

TEXTS_COLLECTION = f"{DATABASE}_post_texts"  # one vector per distinct wording, id `text_key`


class WordingVectors:
    """The stored vectors of recently searched wordings, in memory (LRU).

    A wording's vector depends only on its text and the model, so it never goes stale: a
    similar-post query for a wording seen lately skips the vector store's `get` round trip
    and goes straight to the search (issue 15: the p50 target of 50 ms).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # float32, 1.5 KB each
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        with self._lock:
            found = {key: self._vectors[key] for key in keys if key in self._vectors}
            for key in found:
                self._vectors.move_to_end(key)
        return {key: vector.tolist() for key, vector in found.items()}

    def put_many(self, vectors: dict[str, list[float]]) -> None:
        with self._lock:
            self._vectors.update(
                (key, np.asarray(vector, dtype=np.float32)) for key, vector in vectors.items()
            )
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


_WORDING_VECTORS = WordingVectors(8192)  # at most 8,192 x 384 float32: 12.6 MB

_POST_FIELDS = (
    "post.id AS id, post.source AS source, post.author AS author, "
    "post.author_followers AS author_followers, post.text AS text, "
    "post.created_at AS created_at, post.cashtags AS cashtags, "
    "post.sentiment AS sentiment, post.synthetic AS synthetic, "
    "post.sentiment_probabilities AS sentiment_probabilities, post.url AS url"
)
_IN_PERIOD = (
    "symbol IN {symbols:Array(String)} AND toDate(created_at) BETWEEN {start:Date} AND {end:Date}"
)


def _post(row: Row) -> PostRecord:
    return PostRecord(**{
        **row,
        "cashtags": tuple(row["cashtags"]),
        "sentiment_probabilities": tuple(map(float, row["sentiment_probabilities"])),
    })


def _by_window(periods: Sequence[Period]) -> dict[tuple[dt.date, dt.date], list[str]]:
    symbols: dict[tuple[dt.date, dt.date], set[str]] = defaultdict(set)
    for key in periods:
        symbols[(key.start, key.end)].add(key.symbol)
    return {window: sorted(names) for window, names in symbols.items()}


class MicroRepository:
    def __init__(
        self, store: AnalyticsStore, vectors: VectorStore, database: str = DATABASE
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.database = database  # `micro`; tests that write name their own

    async def stocks_by_symbol(self, symbols: Sequence[str]) -> list[StockRecord | None]:
        rows = await self.store.query(
            f"SELECT symbol, name FROM {self.database}.stocks FINAL "
            "WHERE symbol IN {symbols:Array(String)}",
            {"symbols": sorted(set(symbols))},
        )
        found = {row["symbol"]: StockRecord(**row) for row in rows}
        return [found.get(symbol) for symbol in symbols]

    async def all_stocks(self) -> list[StockRecord]:
        rows = await self.store.query(
            f"SELECT symbol, name FROM {self.database}.stocks FINAL ORDER BY symbol"
        )
        return [StockRecord(**row) for row in rows]

    async def candles(self, ranges: Sequence[CandleRange]) -> list[list[Candle]]:
        return await load_candles(self.store, self.database, ranges)

    async def latest_prices(self, symbols: Sequence[str]) -> list[LatestPrice | None]:
        return await load_latest_prices(self.store, self.database, symbols)

    async def posts_by_id(self, ids: Sequence[str]) -> list[PostRecord | None]:
        rows = await self.store.query(
            f"SELECT {_POST_FIELDS} FROM {self.database}.posts AS post FINAL "
            "WHERE post.id IN {ids:Array(String)}",
            {"ids": sorted(set(ids))},
        )
        found = {row["id"]: _post(row) for row in rows}
        return [found.get(id_) for id_ in ids]

    async def post_stats(self, periods: Sequence[Period]) -> list[PostStats]:
        stats: dict[Period, PostStats] = {}
        for (start, end), symbols in _by_window(periods).items():
            rows = await self.store.query(
                "SELECT symbol, count() AS posts, avg(sentiment) AS mean_sentiment "
                f"FROM {self.database}.mentions FINAL WHERE {_IN_PERIOD} GROUP BY symbol",
                {"symbols": symbols, "start": start, "end": end},
            )
            for row in rows:
                mean = row["mean_sentiment"]
                stats[Period(row["symbol"], start, end)] = PostStats(
                    int(row["posts"]), None if mean is None or math.isnan(mean) else float(mean)
                )
        return [stats.get(key, PostStats(0, None)) for key in periods]

    async def mention_volumes(self, periods: Sequence[Period]) -> list[list[DailyMentionsRecord]]:
        days: dict[Period, list[DailyMentionsRecord]] = defaultdict(list)
        for (start, end), symbols in _by_window(periods).items():
            rows = await self.store.query(
                "SELECT symbol, toDate(created_at) AS date, count() AS posts, "
                f"avg(sentiment) AS mean_sentiment FROM {self.database}.mentions FINAL "
                f"WHERE {_IN_PERIOD} GROUP BY symbol, date ORDER BY symbol, date",
                {"symbols": symbols, "start": start, "end": end},
            )
            for row in rows:
                key = Period(row.pop("symbol"), start, end)
                days[key].append(DailyMentionsRecord(**{**row, "posts": int(row["posts"])}))
        return [days.get(key, []) for key in periods]

    async def latest_posts(self, keys: Sequence[LatestPosts]) -> list[list[PostRecord]]:
        """Each ticker's newest posts in its period, newest first."""
        by_limit: dict[int, list[Period]] = defaultdict(list)
        for key in keys:
            by_limit[key.limit].append(key.period)
        found: dict[LatestPosts, list[PostRecord]] = defaultdict(list)
        for limit, periods in by_limit.items():
            for (start, end), symbols in _by_window(periods).items():
                rows = await self.store.query(
                    f"SELECT hit.symbol AS ticker, {_POST_FIELDS} FROM ("
                    f"SELECT symbol, post_id, created_at FROM {self.database}.mentions FINAL "
                    f"WHERE {_IN_PERIOD} ORDER BY symbol, created_at DESC, post_id "
                    "LIMIT {limit:UInt32} BY symbol) AS hit "
                    f"INNER JOIN {self.database}.posts AS post FINAL ON post.id = hit.post_id "
                    "ORDER BY hit.symbol, hit.created_at DESC, hit.post_id",
                    {"symbols": symbols, "start": start, "end": end, "limit": limit},
                )
                for row in rows:
                    key = LatestPosts(Period(row.pop("ticker"), start, end), limit)
                    found[key].append(_post(row))
        return [found.get(key, []) for key in keys]

    async def latest_posts_overall(
        self, start: dt.date | None, end: dt.date | None, limit: int
    ) -> list[PostRecord]:
        """The newest posts of any ticker (or none) in a period, newest first."""
        rows = await self.store.query(
            f"SELECT {_POST_FIELDS} FROM {self.database}.posts AS post FINAL "
            "WHERE toDate(post.created_at) BETWEEN {start:Date} AND {end:Date} "
            "ORDER BY post.created_at DESC, post.id LIMIT {limit:UInt32}",
            {"start": start or EARLIEST, "end": end or LATEST, "limit": limit},
        )
        return [_post(row) for row in rows]

    async def influencers(self, keys: Sequence[Influencers]) -> list[list[InfluencerRecord]]:
        """Each symbol's authors in its period, ranked by their impact (`influence.py`).

        Per distinct period: one query for the authors' activity, one for the closes (from a
        week before the period, for its first return, to a week after, for the day after
        its last posts).
        """
        found: dict[Influencers, list[InfluencerRecord]] = {}
        for (start, end), symbols in _by_window([key.period for key in keys]).items():
            rows = await self.store.query(
                "SELECT hit.symbol AS symbol, post.author AS author, "
                "max(post.author_followers) AS followers, count() AS posts, "
                "avg(hit.sentiment) AS mean_sentiment, "
                "arraySort(groupUniqArray(toDate(hit.created_at))) AS days "
                f"FROM {self.database}.mentions AS hit FINAL "
                f"INNER JOIN {self.database}.posts AS post FINAL ON post.id = hit.post_id "
                "WHERE hit.symbol IN {symbols:Array(String)} "
                "AND toDate(hit.created_at) BETWEEN {start:Date} AND {end:Date} "
                "GROUP BY symbol, author",
                {"symbols": symbols, "start": start, "end": end},
            )
            activity: dict[str, list[AuthorActivity]] = defaultdict(list)
            for row in rows:
                mean = row["mean_sentiment"]
                activity[row["symbol"]].append(AuthorActivity(
                    author=row["author"],
                    followers=row["followers"],
                    posts=int(row["posts"]),
                    mean_sentiment=None if mean is None or math.isnan(mean) else float(mean),
                    days=tuple(row["days"]),
                ))
            week = dt.timedelta(days=7)
            closes = await self.store.query(
                f"SELECT symbol, date, close FROM {self.database}.candles FINAL "
                "WHERE symbol IN {symbols:Array(String)} "
                "AND date BETWEEN {start:Date} AND {end:Date} ORDER BY symbol, date",
                {"symbols": symbols, "start": max(start - week, EARLIEST),
                 "end": min(end + week, LATEST)},
            )
            series: dict[str, tuple[list[dt.date], list[float]]] = defaultdict(lambda: ([], []))
            for row in closes:
                dates, prices = series[row["symbol"]]
                dates.append(row["date"])
                prices.append(float(row["close"]))
            for key in keys:
                if (key.period.start, key.period.end) == (start, end):
                    dates, prices = series.get(key.period.symbol, ([], []))
                    found[key] = rank_influencers(
                        activity.get(key.period.symbol, []), dates, prices, key.period,
                        key.limit,
                    )
        return [found.get(key, []) for key in keys]

    async def similar_post_ids(self, keys: Sequence[SimilarTo]) -> list[list[str]]:
        """For each post, the ids of the posts worded nearest to it, the same wording first.

        Vectors are per wording (`text_key`): one request for the stored vectors of the
        batch's wordings (a wording not stored, a live post's, is embedded here off the event
        loop by the model that embedded the stored ones), one search for all of them, then
        one query for the newest posts of each wording found. The post itself is dropped.
        """
        if not keys:
            return []
        wordings = [text_key(key.text) for key in keys]
        stored = _WORDING_VECTORS.get_many(wordings)
        unknown = sorted(set(wordings) - stored.keys())
        if unknown:
            fetched = await self.vectors.vectors_by_id(TEXTS_COLLECTION, unknown)
            _WORDING_VECTORS.put_many(fetched)
            stored.update(fetched)
        missing = [key.text for key, wording in zip(keys, wordings, strict=True)
                   if wording not in stored]
        fresh = iter(
            (await asyncio.to_thread(analyse, missing)).vectors.tolist() if missing else []
        )
        vectors = [stored[wording] if wording in stored else next(fresh) for wording in wordings]
        # Every stored wording has at least one post, so limit + 1 wordings always hold
        # `limit` posts besides the post itself.
        most = max(key.limit for key in keys) + 1
        hits = await self.vectors.search(TEXTS_COLLECTION, vectors, limit=most)
        found = sorted({hit.id for nearest in hits for hit in nearest})
        rows = await self.store.query(
            f"SELECT id, text_key FROM {self.database}.posts FINAL "
            "WHERE text_key IN {wordings:Array(String)} "
            "ORDER BY created_at DESC, id LIMIT {most:UInt32} BY text_key",
            {"wordings": found, "most": most},
        )
        posts_by_wording: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            posts_by_wording[row["text_key"]].append(row["id"])
        similar = []
        for key, nearest in zip(keys, hits, strict=True):
            ids = (
                post_id
                for hit in nearest
                for post_id in posts_by_wording.get(hit.id, [])
                if post_id != key.post_id
            )
            similar.append(list(itertools.islice(ids, key.limit)))
        return similar

    async def posts_pages(self, keys: Sequence[PostsPageKey]) -> list[Page[PostRecord]]:
        return list(await asyncio.gather(*(self._posts_page(key) for key in keys)))

    async def _posts_page(self, key: PostsPageKey) -> Page[PostRecord]:
        """Posts tagging the symbol, newest first, keyset-paged on (created_at, id)."""
        where = [
            "hit.symbol = {symbol:String}",
            "toDate(hit.created_at) BETWEEN {start:Date} AND {end:Date}",
        ]
        params: dict[str, object] = {
            "symbol": key.period.symbol,
            "start": key.period.start,
            "end": key.period.end,
            "limit": key.first + 1,
        }
        if key.source is not None:
            where.append("post.source = {source:String}")
            params["source"] = key.source
        if key.after_key is not None:
            where.append(
                "(hit.created_at, hit.post_id) < ({at:DateTime64(3, 'UTC')}, {id:String})"
            )
            params["at"], params["id"] = key.after_key
        rows = await self.store.query(
            f"SELECT formatDateTime(hit.created_at, '%Y-%m-%d %H:%i:%S.%f') AS at, "
            f"{_POST_FIELDS} FROM {self.database}.mentions AS hit FINAL "
            f"INNER JOIN {self.database}.posts AS post FINAL ON post.id = hit.post_id "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY hit.created_at DESC, hit.post_id DESC LIMIT {limit:UInt32}",
            params,
        )
        keyed = [(str(row.pop("at"))[:23], row) for row in rows]
        return Page.of([(_post(row), (at, row["id"])) for at, row in keyed], key.first, key.after)

    async def authors(self, keys: Sequence[tuple[str, str]]) -> list[AuthorRecord | None]:
        """Each (source, handle)'s newest profile on record."""
        rows = await self.store.query(
            "SELECT source, handle, name, followers, following, posts, seen_at "
            f"FROM {self.database}.authors FINAL "
            "WHERE (source || ':' || handle) IN {keys:Array(String)}",
            {"keys": sorted({f"{source}:{handle}" for source, handle in keys})},
        )
        found = {(row["source"], row["handle"]): AuthorRecord(**row) for row in rows}
        return [found.get(key) for key in keys]
