"""Tables that ingestion fills: exchange trades and Ethereum logs.

Every on-chain row carries the hash of the block it came from. `chain_blocks` says which hash
is canonical at each height (ReplacingMergeTree on `version`): a reorganisation writes the new
hashes, and tombstones (hash '') over heights the new chain left without logs, with a higher
version. Reads keep only rows whose (block_number, block_hash) is canonical (`CANONICAL`), so
rows of an orphaned block vanish from every answer without being deleted, and rows written
before their block (a batch cut short) stay invisible until the batch is written again.
"""

ONCHAIN_DDL = (
    # Trades from the exchange's WebSocket stream: the live ticks' source of truth.
    """CREATE TABLE IF NOT EXISTS {database}.trades (
        symbol LowCardinality(String),
        trade_id UInt64,
        at DateTime64(3, 'UTC'),
        price Float64,
        quantity Float64,
        buyer_maker Bool
    ) ENGINE = ReplacingMergeTree ORDER BY (symbol, trade_id)""",
    """CREATE TABLE IF NOT EXISTS {database}.chain_blocks (
        number UInt64,
        hash String,
        at DateTime64(3, 'UTC'),
        version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY number""",
    """CREATE TABLE IF NOT EXISTS {database}.transfers (
        block_number UInt64,
        block_hash String,
        log_index UInt32,
        transaction_hash String,
        at DateTime64(3, 'UTC'),
        token LowCardinality(String),
        token_address String,
        sender String,
        recipient String,
        amount Float64,
        amount_raw String,
        price_usd Nullable(Float64),
        value_usd Nullable(Float64),
        sender_exchange LowCardinality(String),
        recipient_exchange LowCardinality(String)
    ) ENGINE = ReplacingMergeTree ORDER BY (block_number, log_index, block_hash)""",
    # Uniswap events in token units (decimals applied); v3 prices as sqrt(token1 per token0).
    """CREATE TABLE IF NOT EXISTS {database}.pool_events (
        block_number UInt64,
        block_hash String,
        log_index UInt32,
        transaction_hash String,
        at DateTime64(3, 'UTC'),
        pool String,
        kind LowCardinality(String),
        amount0 Float64,
        amount1 Float64,
        reserve0 Nullable(Float64),
        reserve1 Nullable(Float64),
        sqrt_price Nullable(Float64),
        liquidity Nullable(Float64),
        tick Nullable(Int32),
        tick_lower Nullable(Int32),
        tick_upper Nullable(Int32),
        range_liquidity Float64
    ) ENGINE = ReplacingMergeTree ORDER BY (block_number, log_index, block_hash)""",
    """CREATE TABLE IF NOT EXISTS {database}.chain_pools (
        address String,
        protocol LowCardinality(String),
        token0 LowCardinality(String),
        token1 LowCardinality(String),
        fee Float64
    ) ENGINE = ReplacingMergeTree ORDER BY address""",
)


def canonical(database: str) -> str:
    """The WHERE condition keeping rows of canonical blocks only."""
    return (
        "(block_number, block_hash) IN "
        f"(SELECT number, hash FROM {database}.chain_blocks FINAL WHERE hash != '')"
    )
