"""The crypto database: token metadata and daily candles."""

from subgraphs.benchmarks import BENCHMARKS_DDL
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
    BENCHMARKS_DDL.format(database=DATABASE),
    # Liquidity pools; v3 pools list their liquidity ranges as parallel arrays.
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.pools (
        id String,
        protocol LowCardinality(String),
        token0 LowCardinality(String),
        token1 LowCardinality(String),
        fee Float64,
        synthetic Bool,
        seeded_on Date,
        reserve0 Float64,
        reserve1 Float64,
        sqrt_price Float64,
        range_lower Array(Int32),
        range_upper Array(Int32),
        range_liquidity Array(Float64)
    ) ENGINE = ReplacingMergeTree ORDER BY id""",
]
