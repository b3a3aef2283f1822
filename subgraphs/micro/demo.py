"""Load the micro part of the demo dataset. Idempotent: loading twice adds no rows.

Real daily candles (GME and AMC 2019-09..2022-09; BB, NOK and TSLA in Jan-Feb 2021), the
real r/wallstreetbets comments of September 2019 as posts, and synthetic posts generated
from the candles (`generator.py`), also about $BTC and $ETH (January-June 2021, from the
demo's real token candles) so tokens have a social footprint. Every post is embedded (MiniLM,
one vector per distinct wording in the `micro_post_texts` collection) and scored by the
sentiment model before it is stored (`embedding.py`): the ~24k posts have a few hundred
distinct texts, each encoded once.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import gzip
from pathlib import Path
from typing import Any

from nexus.demo import DEMO_DATA
from nexus.stores.analytics import AnalyticsStore
from nexus.stores.vectors import VectorStore
from subgraphs.benchmarks import load_benchmark_demo
from subgraphs.micro.ddl import DATABASE, STATEMENTS, TABLES
from subgraphs.micro.embedding import DIMENSIONS, analyse, text_key
from subgraphs.micro.generator import DailyBar, reddit_posts, synthetic_posts
from subgraphs.micro.records import POST_COLUMNS, PostRecord
from subgraphs.micro.repository import TEXTS_COLLECTION

# Tokens posted about in the demo (crypto owns them; micro keeps only their social footprint):
# synthetic posts from the real daily BTC and ETH candles of the demo, over the first half of
# 2021 (the meme-stock months), so `Token.sentiment` answers.
TOKEN_POSTS = ("BTC", "ETH")
TOKEN_POST_DAYS = (dt.date(2021, 1, 1), dt.date(2021, 6, 30))
TOKEN_STREAM = 1

STOCKS = [
    ("AMC", "AMC Entertainment Holdings"),
    ("BB", "BlackBerry"),
    ("GME", "GameStop Corp."),
    ("NOK", "Nokia"),
    ("TSLA", "Tesla"),
]


async def ensure_schema(store: AnalyticsStore, vectors: VectorStore) -> None:
    for statement in STATEMENTS:
        await store.command(statement)
    await vectors.ensure_collection(TEXTS_COLLECTION, DIMENSIONS)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        return next(reader), list(reader)


def _post_row(post: PostRecord) -> list[Any]:
    return [
        post.id,
        post.source,
        post.author,
        post.author_followers,
        post.text,
        post.created_at,
        list(post.cashtags),
        post.sentiment,
        post.synthetic,
        list(post.sentiment_probabilities),
    ]


def token_bars(data_dir: Path = DEMO_DATA) -> list[DailyBar]:
    """The demo's BTC and ETH daily bars in TOKEN_POST_DAYS (read from the demo file, not from
    crypto's store), for their synthetic posts."""
    _, rows = _read_csv(data_dir / "crypto_candles.csv.gz")
    first, last = TOKEN_POST_DAYS
    return [
        DailyBar(symbol, day, float(close), float(volume))
        for symbol, date, _, _, _, close, volume in rows
        if symbol in TOKEN_POSTS and first <= (day := dt.date.fromisoformat(date)) <= last
    ]


async def load_demo(
    analytics: AnalyticsStore,
    vectors: VectorStore,
    data_dir: Path = DEMO_DATA,
    cache_dir: Path | None = None,
) -> dict[str, int]:
    """Create the schema, load every table and the post embeddings; the rows loaded per table.

    `cache_dir`: where the wordings' analyses are kept across processes (`text_cache`); the
    app passes its data directory, so a restart does not encode (or compile) again."""
    await ensure_schema(analytics, vectors)
    columns, rows = _read_csv(data_dir / "stock_candles.csv.gz")
    candles = [[row[0], row[1], *map(float, row[2:])] for row in rows]
    bars = [
        DailyBar(symbol, dt.date.fromisoformat(date), float(close), float(volume))
        for symbol, date, _, _, _, close, volume in rows
    ]
    comment_columns, comment_rows = _read_csv(data_dir / "wsb_comments.csv.gz")
    posts = reddit_posts(dict(zip(comment_columns, row, strict=True)) for row in comment_rows)
    posts += synthetic_posts(bars)
    posts += synthetic_posts(token_bars(data_dir), stream=TOKEN_STREAM)
    # Embedding and scoring is CPU-bound: off the event loop.
    analysis = await asyncio.to_thread(analyse, [post.text for post in posts], cache_dir)
    posts = [
        dataclasses.replace(
            post,
            sentiment=round(float(score), 4),
            sentiment_probabilities=tuple(round(float(p), 4) for p in probabilities),
        )
        for post, score, probabilities in zip(
            posts, analysis.scores, analysis.probabilities, strict=True
        )
    ]

    await analytics.insert(f"{DATABASE}.stocks", ["symbol", "name"], STOCKS)
    await analytics.insert(f"{DATABASE}.candles", columns, candles)
    await analytics.insert(f"{DATABASE}.posts", POST_COLUMNS, [_post_row(post) for post in posts])
    # ReplacingMergeTree collapses rows loaded twice once parts merge; merge now.
    for table in TABLES:
        await analytics.command(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")

    # One vector per wording: its posts share it (the table computes the same `text_key`).
    wordings = {
        text_key(post.text): vector
        for post, vector in zip(posts, analysis.vectors.tolist(), strict=True)
    }
    await vectors.upsert(
        TEXTS_COLLECTION, [{"id": key, "vector": vector} for key, vector in wordings.items()]
    )
    benchmarks = await load_benchmark_demo(analytics, DATABASE, data_dir)
    mentions = sum(len(post.cashtags) for post in posts)
    return {
        f"{DATABASE}.stocks": len(STOCKS),
        f"{DATABASE}.candles": len(candles),
        f"{DATABASE}.posts": len(posts),
        f"{DATABASE}.mentions": mentions,
        TEXTS_COLLECTION: len(wordings),
        f"{DATABASE}.benchmarks": benchmarks,
    }
