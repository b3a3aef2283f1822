"""The micro database: stocks, their daily candles, social posts and per-ticker mentions, the
posts' authors, and the SEC filings and XBRL facts of the companies behind the stocks.

Posts are embedded by wording: `text_key` (a hash of the text) is the id of the text's vector
in the `micro_post_texts` collection, so the demo's 20k synthetic posts, a few hundred
wordings, are a few hundred vectors.

`mentions` is `posts` exploded by cashtag (one row per post and ticker), kept in step by a
materialised view so that every ingestion path fills it; it is ordered for the per-ticker,
per-period reads the API makes. `authors` holds each source's latest profile of an account
(ReplacingMergeTree on `seen_at`: the newest sighting wins). `companies` maps a ticker to its
SEC CIK; `filings` is one row per accession; `facts` one row per reported XBRL value (a later
filing repeating an earlier period's value is another row: reads keep the latest filed). All
tables are ReplacingMergeTree on their natural key, so a
row loaded twice collapses on merge.
"""

from subgraphs.benchmarks import BENCHMARKS_DDL
from subgraphs.candles import CANDLES_DDL

DATABASE = "micro"
# The key of a post's wording (`embedding.text_key`): its vector's id in `micro_post_texts`.
TEXT_KEY = "substring(lower(hex(SHA256(text))), 1, 32)"

# Authors, companies, filings and facts: written by ingestion (`subgraphs/micro/writer.py`).
EXTRA_TABLES = """CREATE TABLE IF NOT EXISTS {database}.authors (
    source LowCardinality(String),
    handle String,
    name String,
    followers Nullable(UInt32),
    following Nullable(UInt32),
    posts Nullable(UInt32),
    seen_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(seen_at) ORDER BY (source, handle);
CREATE TABLE IF NOT EXISTS {database}.companies (
    symbol LowCardinality(String),
    cik UInt32,
    name String
) ENGINE = ReplacingMergeTree ORDER BY symbol;
CREATE TABLE IF NOT EXISTS {database}.filings (
    symbol LowCardinality(String),
    cik UInt32,
    accession String,
    form LowCardinality(String),
    filed Date,
    report_date Nullable(Date),
    accepted_at Nullable(DateTime('UTC')),
    primary_document String,
    description String
) ENGINE = ReplacingMergeTree ORDER BY (symbol, accession);
CREATE TABLE IF NOT EXISTS {database}.facts (
    symbol LowCardinality(String),
    taxonomy LowCardinality(String),
    concept LowCardinality(String),
    unit LowCardinality(String),
    period_start Date,
    period_end Date,
    value Float64,
    fiscal_year Nullable(UInt16),
    fiscal_period LowCardinality(String),
    form LowCardinality(String),
    filed Date,
    accession String
) ENGINE = ReplacingMergeTree
ORDER BY (symbol, taxonomy, concept, unit, period_end, period_start, accession)"""
# An instant fact (shares outstanding on a date) has no start: stored as this day, read as null.
# (A Nullable column cannot be part of the sorting key.)
INSTANT = "1970-01-01"


def statements(database: str = DATABASE) -> list[str]:
    """The DDL of a micro database named `database` (tests use their own)."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        f"""CREATE TABLE IF NOT EXISTS {database}.stocks (
            symbol LowCardinality(String),
            name String
        ) ENGINE = ReplacingMergeTree ORDER BY symbol""",
        CANDLES_DDL.format(database=database),
        BENCHMARKS_DDL.format(database=database),
        f"""CREATE TABLE IF NOT EXISTS {database}.posts (
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
        f"ALTER TABLE {database}.posts ADD COLUMN IF NOT EXISTS "
        "sentiment_probabilities Array(Float32)",
        f"ALTER TABLE {database}.posts ADD COLUMN IF NOT EXISTS text_key String DEFAULT {TEXT_KEY}",
        # Where an ingested post can be read (X or Reddit permalink); empty for the demo's.
        f"ALTER TABLE {database}.posts ADD COLUMN IF NOT EXISTS url String DEFAULT ''",
        f"""CREATE TABLE IF NOT EXISTS {database}.mentions (
            symbol LowCardinality(String),
            created_at DateTime64(3, 'UTC'),
            post_id String,
            sentiment Nullable(Float64)
        ) ENGINE = ReplacingMergeTree ORDER BY (symbol, created_at, post_id)""",
        f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.mentions_from_posts
            TO {database}.mentions AS
            SELECT arrayJoin(cashtags) AS symbol, created_at, id AS post_id, sentiment
            FROM {database}.posts""",
        *EXTRA_TABLES.format(database=database).split(";\n"),
    ]


STATEMENTS = statements()
TABLES = ("stocks", "candles", "posts", "mentions", "authors", "companies", "filings", "facts")
