"""The crypto database: token metadata and daily candles."""

from subgraphs.candles import CANDLES_DDL

DATABASE = "crypto"

STATEMENTS = [
    f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.tokens (
        symbol LowCardinality(String),
        name String,
        kind LowCardinality(String)
    ) ENGINE = ReplacingMergeTree ORDER BY symbol""",
    CANDLES_DDL.format(database=DATABASE),
]
