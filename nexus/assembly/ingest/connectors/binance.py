"""Binance spot (the exchange format this project reads; see the README): daily klines over
REST into `crypto.candles`, and the trade stream over WebSocket into `crypto.trades` and live
`market.{SYMBOL}` ticks."""

from __future__ import annotations

from nexus.assembly.ingest.connectors.binance_fake import binance_fake
from nexus.assembly.ingest.connectors.binance_sink import BinanceSink
from nexus.assembly.ingest.connectors.binance_source import (
    KLINES,
    TRADES,
    BinanceKlines,
    BinanceTrades,
)
from nexus.assembly.ingest.http import Rate
from nexus.assembly.ingest.source import Connector

CONNECTORS = [
    Connector(
        name=KLINES,
        domain="crypto",
        description="Binance spot daily klines (GET /api/v3/klines), USDT pairs",
        base_url="https://api.binance.com",
        source=BinanceKlines,
        sink=BinanceSink,
        rate=Rate(20, 1),  # 6000 weight a minute, 2 per klines request: well under it
        interval_seconds=3600.0,
        fake=binance_fake,
    ),
    Connector(
        name=TRADES,
        domain="crypto",
        description="Binance spot trade stream (<symbol>@trade over WebSocket) -> live ticks",
        base_url="wss://stream.binance.com:9443",
        source=BinanceTrades,
        sink=BinanceSink,
        rate=Rate(5, 1),  # connections, not requests: Binance allows 5 messages a second
        interval_seconds=60.0,  # each run streams NEXUS_BINANCE_STREAM_SECONDS
        fake=binance_fake,
        live=True,
    ),
]
