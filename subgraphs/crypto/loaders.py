"""The request context: fresh DataLoaders per request over the crypto repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from aiodataloader import DataLoader

from nexus.auth import ANONYMOUS, Caller
from nexus.stores import Stores
from nexus.stores.bus import Bus
from subgraphs.charts import bars_batches, close_chart_batches
from subgraphs.close_history import load_close_histories
from subgraphs.crypto.ddl import DATABASE
from subgraphs.crypto.live_price import load_live_prices
from subgraphs.crypto.option_pricing import implied_volatility_batches, price_batches
from subgraphs.crypto.pool_engine import (
    impermanent_loss_batches,
    position_batches,
    quote_batches,
)
from subgraphs.crypto.repository import CryptoRepository
from subgraphs.risk import risk_batches


@dataclass
class CryptoContext:
    repository: CryptoRepository
    bus: Bus
    caller: Caller = ANONYMOUS
    tokens: DataLoader = field(init=False)
    candles: DataLoader = field(init=False)
    close_histories: DataLoader = field(init=False)
    latest_prices: DataLoader = field(init=False)
    live_prices: DataLoader = field(init=False)
    option_prices: DataLoader = field(init=False)
    implied_volatilities: DataLoader = field(init=False)
    benchmarks: DataLoader = field(init=False)
    risk: DataLoader = field(init=False)
    close_charts: DataLoader = field(init=False)
    bars: DataLoader = field(init=False)
    pools: DataLoader = field(init=False)
    pool_quotes: DataLoader = field(init=False)
    pool_positions: DataLoader = field(init=False)
    impermanent_losses: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = DataLoader(self.repository.tokens_by_symbol)
        self.candles = DataLoader(self.repository.candles)
        self.close_histories = DataLoader(
            partial(load_close_histories, self.repository.store, DATABASE)
        )
        self.latest_prices = DataLoader(self.repository.latest_prices)
        # Ticks change between requests, never within one: a request's cache is right.
        self.live_prices = DataLoader(partial(load_live_prices, self.bus, self.repository.onchain))
        # Engine loaders: keys are compared by identity, so no cache spans two fields.
        self.option_prices = DataLoader(price_batches, cache=False)
        self.implied_volatilities = DataLoader(implied_volatility_batches, cache=False)
        self.benchmarks = DataLoader(self.repository.benchmark_series)
        self.risk = DataLoader(risk_batches, cache=False)
        self.close_charts = DataLoader(close_chart_batches, cache=False)
        self.bars = DataLoader(bars_batches, cache=False)
        self.pools = DataLoader(self.repository.pools_by_id)
        self.pool_quotes = DataLoader(quote_batches, cache=False)
        self.pool_positions = DataLoader(position_batches, cache=False)
        self.impermanent_losses = DataLoader(impermanent_loss_batches)


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> CryptoContext:
    return CryptoContext(CryptoRepository(stores.require_analytics()), stores.require_bus(), caller)
