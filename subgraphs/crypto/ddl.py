"""The crypto database: token metadata, daily candles, pools, and what ingestion adds (trades,
on-chain blocks, ERC-20 transfers, Uniswap pool events).

`statements(database)` builds the same tables under another database name, so a test can
ingest into a database of its own without touching the shared demo data.
"""

from subgraphs.benchmarks import BENCHMARKS_DDL
from subgraphs.candles import CANDLES_DDL
from subgraphs.crypto.onchain_ddl import ONCHAIN_DDL

DATABASE = "crypto"


def statements(database: str = DATABASE) -> list[str]:
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        f"""CREATE TABLE IF NOT EXISTS {database}.tokens (
            symbol LowCardinality(String),
            name String,
            kind LowCardinality(String)
        ) ENGINE = ReplacingMergeTree ORDER BY symbol""",
        CANDLES_DDL.format(database=database),
        BENCHMARKS_DDL.format(database=database),
        # Liquidity pools; v3 pools list their liquidity ranges as parallel arrays.
        f"""CREATE TABLE IF NOT EXISTS {database}.pools (
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
        *(statement.format(database=database) for statement in ONCHAIN_DDL),
    ]


STATEMENTS = statements()
