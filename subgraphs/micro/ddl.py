"""The micro database: stocks, their daily candles, social posts and per-ticker mentions.

`mentions` is `posts` exploded by cashtag (one row per post and ticker), kept in step by a
materialised view so that every ingestion path fills it; it is ordered for the per-ticker,
per-period reads the API makes. All tables are ReplacingMergeTree on their natural key, so a
row loaded twice collapses on merge.
"""

from subgraphs.benchmarks import BENCHMARKS_DDL
from subgraphs.candles import CANDLES_DDL

DATABASE = "micro"

STATEMENTS = [
    f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.stocks (
        symbol LowCardinality(String),
        name String
    ) ENGINE = ReplacingMergeTree ORDER BY symbol""",
    CANDLES_DDL.format(database=DATABASE),
    BENCHMARKS_DDL.format(database=DATABASE),
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.posts (
        id String,
        source LowCardinality(String),
        author String,
        author_followers Nullable(UInt32),
        text String,
        created_at DateTime64(3, 'UTC'),
        cashtags Array(LowCardinality(String)),
        sentiment Nullable(Float64),
        synthetic Bool
    ) ENGINE = ReplacingMergeTree ORDER BY id""",
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.mentions (
        symbol LowCardinality(String),
        created_at DateTime64(3, 'UTC'),
        post_id String,
        sentiment Nullable(Float64)
    ) ENGINE = ReplacingMergeTree ORDER BY (symbol, created_at, post_id)""",
    f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {DATABASE}.mentions_from_posts
        TO {DATABASE}.mentions AS
        SELECT arrayJoin(cashtags) AS symbol, created_at, id AS post_id, sentiment
        FROM {DATABASE}.posts""",
]

TABLES = ("stocks", "candles", "posts", "mentions")
