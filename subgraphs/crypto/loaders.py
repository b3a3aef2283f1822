"""The request context: fresh DataLoaders per request over the crypto repository."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiodataloader import DataLoader

from nexus.auth import ANONYMOUS, Caller
from nexus.stores import Stores
from nexus.stores.bus import Bus
from subgraphs.crypto.repository import CryptoRepository


@dataclass
class CryptoContext:
    repository: CryptoRepository
    bus: Bus
    caller: Caller = ANONYMOUS
    tokens: DataLoader = field(init=False)
    candles: DataLoader = field(init=False)
    latest_prices: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = DataLoader(self.repository.tokens_by_symbol)
        self.candles = DataLoader(self.repository.candles)
        self.latest_prices = DataLoader(self.repository.latest_prices)


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> CryptoContext:
    return CryptoContext(CryptoRepository(stores.require_analytics()), stores.require_bus(), caller)
