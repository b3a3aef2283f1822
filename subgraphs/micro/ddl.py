"""The micro database: stocks, their daily candles, social posts and per-ticker mentions.

Posts are embedded by wording: `text_key` (a hash of the text) is the id of the text's vector
in the `micro_post_texts` collection, so the demo's 20k synthetic posts, a few hundred
wordings, are a few hundred vectors.

`mentions` is `posts` exploded by cashtag (one row per post and ticker), kept in step by a
materialised view so that every ingestion path fills it; it is ordered for the per-ticker,
per-period reads the API makes. All tables are ReplacingMergeTree on their natural key, so a
row loaded twice collapses on merge.
"""

from subgraphs.benchmarks import BENCHMARKS_DDL
from subgraphs.candles import CANDLES_DDL

DATABASE = "micro"
# The key of a post's wording (`embedding.text_key`): its vector's id in `micro_post_texts`.
TEXT_KEY = "substring(lower(hex(SHA256(text))), 1, 32)"

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
        synthetic Bool,
        sentiment_probabilities Array(Float32),
        text_key String DEFAULT {TEXT_KEY}
    ) ENGINE = ReplacingMergeTree ORDER BY id""",
    # A store made before the sentiment model gets the columns (empty: not scored).
    f"ALTER TABLE {DATABASE}.posts ADD COLUMN IF NOT EXISTS "
    "sentiment_probabilities Array(Float32)",
    f"ALTER TABLE {DATABASE}.posts ADD COLUMN IF NOT EXISTS text_key String DEFAULT {TEXT_KEY}",
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
