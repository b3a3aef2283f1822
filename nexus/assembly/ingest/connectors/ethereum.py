"""Ethereum JSON-RPC: ERC-20 transfers and Uniswap v2/v3 pool events into the crypto store.

Point NEXUS_INGEST_ETHEREUM_URL at a node or a provider's HTTPS endpoint (its URL may hold an
API key: the URL is never logged). See ethereum_source.py (cursor and reorgs), ethereum_sink.py
(USD values, whale alerts) and address_book.py (known tokens, pools and exchange wallets).
"""

from __future__ import annotations

from nexus.assembly.ingest.connectors.ethereum_fake import ethereum_fake
from nexus.assembly.ingest.connectors.ethereum_sink import EthereumSink
from nexus.assembly.ingest.connectors.ethereum_source import NAME, EthereumSource
from nexus.assembly.ingest.http import Rate
from nexus.assembly.ingest.source import Connector

CONNECTORS = [
    Connector(
        name=NAME,
        domain="crypto",
        description="Ethereum JSON-RPC logs: ERC-20 Transfer (whales, exchange flows) and "
        "Uniswap v2 Sync/Swap/Mint/Burn, v3 Swap/Mint/Burn",
        base_url="http://127.0.0.1:8545",  # a local node; providers: set the URL
        source=EthereumSource,
        sink=EthereumSink.from_env,
        rate=Rate(25, 1),  # a typical provider's free tier: 25 requests a second
        interval_seconds=15.0,  # about one block
        fake=ethereum_fake,
    )
]
