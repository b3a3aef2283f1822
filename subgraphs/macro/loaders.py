"""The request context: fresh DataLoaders per request over the macro repository."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiodataloader import DataLoader

from nexus.auth import ANONYMOUS, Caller
from nexus.stores import Stores
from nexus.stores.analytics import AnalyticsStore
from nexus.stores.bus import Bus
from subgraphs.macro.analytics import AnalyticsLoaders
from subgraphs.macro.repository import MacroRepository, VintageRepository


@dataclass
class MacroContext:
    repository: MacroRepository
    bus: Bus
    caller: Caller = ANONYMOUS
    # Observations this request has returned so far, against NEXUS_MAX_OBSERVATIONS.
    observations_served: int = field(default=0, init=False)
    series: DataLoader = field(init=False)
    observations: DataLoader = field(init=False)
    latest_observations: DataLoader = field(init=False)
    par_curves: DataLoader = field(init=False)
    analytics: AnalyticsLoaders = field(init=False)
    vintages: VintageRepository = field(init=False)
    as_of: DataLoader = field(init=False)  # VintageRange -> observations known then
    has_vintages: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        self.series = DataLoader(self.repository.series_by_id)
        self.observations = DataLoader(self.repository.observations)
        self.latest_observations = DataLoader(self.repository.latest_observations)
        self.par_curves = DataLoader(self.repository.par_curves)
        self.analytics = AnalyticsLoaders(self.repository, self.par_curves, self.observations)
        self.vintages = VintageRepository(self.repository.store)
        self.as_of = DataLoader(self.vintages.as_of)
        self.has_vintages = DataLoader(self.vintages.with_vintages)

    @property
    def store(self) -> AnalyticsStore:
        return self.repository.store


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> MacroContext:
    return MacroContext(MacroRepository(stores.require_analytics()), stores.require_bus(), caller)
