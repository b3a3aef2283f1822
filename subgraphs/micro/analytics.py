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
from subgraphs.candles import Candle, candle_range
from subgraphs.charts import (
    BarInterval,
    BarsRequest,
    CloseChart,
    CloseChartRequest,
    PriceBars,
    bars_batches,
    check_candles,
    check_points,
    close_chart_batches,
)
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
from subgraphs.risk_types import (
    Benchmark,
    Confidence,
    RiskReport,
    Samples,
    Seed,
    Window,
    risk_report,
)

TRADING_DAYS_PER_YEAR = 252.0
From = Annotated[
    dt.date | None, strawberry.argument(name="from", description="First day, inclusive.")
]
To = Annotated[dt.date | None, strawberry.argument(description="Last day, inclusive.")]


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

    @strawberry.field(
        description="Risk of the stock's daily closes in the period: returns, rolling "
        "volatility (annualised over 252 trading days), drawdowns, one-day historical and "
        "Monte Carlo VaR/ES, CAPM against a benchmark.",
        directives=[Cost(weight=20)],
    )
    async def risk(
        self,
        info: Info[AnalyticsContext, None],
        from_: From = None,
        to: To = None,
        window: Window = 20,
        confidence_level: Confidence = 0.99,
        benchmark: Benchmark = "NASDAQ",
        monte_carlo_samples: Samples = 20_000,
        seed: Seed = 0,
    ) -> RiskReport | None:
        return await risk_report(
            info.context.analytics, self.symbol, from_, to, window=window,
            confidence_level=confidence_level, benchmark=benchmark,
            samples=monte_carlo_samples, seed=seed, periods_per_year=TRADING_DAYS_PER_YEAR,
        )

    @strawberry.field(description=CLOSE_HISTORY_DESCRIPTION, directives=[Cost(weight=5)])
    async def close_history(self, info: Info[AnalyticsContext, None]) -> CloseHistory | None:
        return await close_history(info.context, self.symbol)  # type: ignore[arg-type]

    @strawberry.field(
        description="Daily closes downsampled to at most `points` points (Largest-Triangle-"
        "Three-Buckets keeps the shape of the line).",
        directives=[Cost(weight=5)],
    )
    async def close_chart(
        self,
        info: Info[AnalyticsContext, None],
        points: Annotated[int, strawberry.argument(description="Points to keep, 3 to 10,000.")],
        from_: From = None,
        to: To = None,
    ) -> CloseChart | None:
        check_points(points)
        analytics = info.context.analytics
        candles: list[Candle] = await analytics.candles.load(candle_range(self.symbol, from_, to))
        check_candles(candles)
        chart: CloseChart = await analytics.close_charts.load(CloseChartRequest(candles, points))
        return chart

    @strawberry.field(
        description="Daily candles resampled into weekly or monthly OHLCV bars.",
        directives=[Cost(weight=5)],
    )
    async def bars(
        self,
        info: Info[AnalyticsContext, None],
        interval: Annotated[BarInterval, strawberry.argument(description="WEEK or MONTH.")],
        from_: From = None,
        to: To = None,
    ) -> PriceBars | None:
        analytics = info.context.analytics
        candles: list[Candle] = await analytics.candles.load(candle_range(self.symbol, from_, to))
        check_candles(candles)
        bars: PriceBars = await analytics.bars.load(BarsRequest(candles, interval))
        return bars


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
