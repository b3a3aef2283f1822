"""Micro's analytics: `Stock` risk and charts, and the co-mention network root field.

Kept apart from the social fields: `MicroAnalytics` holds the request's engine DataLoaders
(the context builds one per request), `StockAnalytics` is mixed into `Stock`, and
`NetworkQuery` into the root `Query`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Protocol

import strawberry
from aiodataloader import DataLoader
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.demand import sizes_children
from nexus.stores.analytics import AnalyticsStore
from subgraphs.benchmarks import BenchmarkRange, BenchmarkSeries, load_benchmark_series
from subgraphs.charts import bars_batches, bars_field, close_chart_batches, close_chart_field
from subgraphs.close_history import CLOSE_HISTORY_DESCRIPTION, CloseHistory, close_history
from subgraphs.micro.ddl import DATABASE
from subgraphs.micro.network import (
    MentionNetwork,
    NetworkKind,
    NetworkRequest,
    check_network,
    network_batches,
)
from subgraphs.risk import risk_batches
from subgraphs.risk_types import risk_field

TRADING_DAYS_PER_YEAR = 252.0


@dataclass
class MicroAnalytics:
    """The engine-backed DataLoaders of one request (candles shared with the context)."""

    store: AnalyticsStore
    candles: DataLoader
    benchmarks: DataLoader = field(init=False)
    risk: DataLoader = field(init=False)
    close_charts: DataLoader = field(init=False)
    bars: DataLoader = field(init=False)
    networks: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        self.benchmarks = DataLoader(self._benchmark_series)
        self.risk = DataLoader(risk_batches, cache=False)
        self.close_charts = DataLoader(close_chart_batches, cache=False)
        self.bars = DataLoader(bars_batches, cache=False)
        self.networks = DataLoader(partial(network_batches, self.store))

    async def _benchmark_series(
        self, keys: Sequence[BenchmarkRange]
    ) -> list[BenchmarkSeries | None]:
        return await load_benchmark_series(self.store, DATABASE, keys)


class AnalyticsContext(Protocol):
    """What these resolvers need of the request context (`MicroContext`)."""

    analytics: MicroAnalytics


@strawberry.type
class StockAnalytics:
    symbol: str

    risk = risk_field(
        holding="stock",
        year="252 trading days",
        periods_per_year=TRADING_DAYS_PER_YEAR,
        default_window=20,
        source=lambda context: context.analytics,
    )

    @strawberry.field(description=CLOSE_HISTORY_DESCRIPTION, directives=[Cost(weight=5)])
    async def close_history(self, info: Info[AnalyticsContext, None]) -> CloseHistory | None:
        return await close_history(info.context, self.symbol)  # type: ignore[arg-type]

    close_chart = close_chart_field(lambda context: context.analytics)
    bars = bars_field(lambda context: context.analytics)


@strawberry.type
class NetworkQuery:
    @strawberry.field(
        description="The cashtag or influencer co-mention network of a period, with node "
        "sizes, edge weights and 2-D positions from a force-directed layout.",
        directives=[Cost(weight=20), sizes_children("nodes", "edges", slicing="maxNodes")],
    )
    async def mention_network(
        self,
        info: Info[AnalyticsContext, None],
        kind: Annotated[NetworkKind, strawberry.argument(description="CASHTAGS or INFLUENCERS.")],
        from_: Annotated[
            dt.date, strawberry.argument(name="from", description="First day (UTC), inclusive.")
        ],
        to: Annotated[dt.date, strawberry.argument(description="Last day (UTC), inclusive.")],
        max_nodes: Annotated[
            int, strawberry.argument(description="Largest nodes kept, 2 to 200.")
        ] = 50,
        min_followers: Annotated[
            int, strawberry.argument(description="INFLUENCERS: accounts with at least this "
                                     "many followers.")
        ] = 100_000,
        seed: Annotated[
            int, strawberry.argument(description="Seed of the layout's starting positions.")
        ] = 0,
    ) -> MentionNetwork | None:
        check_network(from_, to, max_nodes, min_followers)
        network: MentionNetwork = await info.context.analytics.networks.load(
            NetworkRequest(kind, from_, to, max_nodes, min_followers, seed)
        )
        return network
