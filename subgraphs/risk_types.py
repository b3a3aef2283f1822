"""GraphQL types of a price history's risk, shared (@shareable) by crypto and micro.

`risk_field` is `Token.risk` and `Stock.risk` (the same arguments; the defaults and the
annualisation are each domain's); `risk_report`, its resolver body, reads the closes and the
benchmark through the subgraph's own DataLoaders, validates, and asks the `risk` loader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Protocol

import numpy as np
import strawberry
from aiodataloader import DataLoader
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.errors import BadUserInput
from subgraphs.benchmarks import INDICES, BenchmarkRange, BenchmarkSeries
from subgraphs.candles import Candle, From, To, candle_range
from subgraphs.columns import FloatColumn, column
from subgraphs.risk import RiskFigures, RiskRequest, TailRisk, check_request


class RiskContext(Protocol):
    candles: DataLoader
    benchmarks: DataLoader
    risk: DataLoader


@strawberry.federation.type(
    shareable=True,
    description="One-day value at risk and expected shortfall of a long position, as "
    "positive fractions of its value (0.05 = a 5% loss).",
)
class TailRiskFigures:
    confidence_level: float = strawberry.field(description="The VaR level (0.99 = 99%).")
    value_at_risk: float = strawberry.field(
        description="The loss not exceeded on a day with that probability, fraction of value."
    )
    expected_shortfall: float = strawberry.field(
        description="Mean loss on the days beyond the VaR, fraction of value."
    )
    value_at_risk_standard_error: float = strawberry.field(
        description="Monte Carlo standard error of the VaR (0 for historical)."
    )
    expected_shortfall_standard_error: float = strawberry.field(
        description="Monte Carlo standard error of the expected shortfall (0 for historical)."
    )


@strawberry.federation.type(
    shareable=True,
    description="CAPM regression of daily simple returns on a benchmark's (no risk-free rate "
    "subtracted), by OLS on the days both have a close.",
)
class CapmEstimate:
    benchmark: str = strawberry.field(description="The benchmark's symbol (NASDAQ, BTC, ...).")
    beta: float = strawberry.field(description="Sensitivity to the benchmark's return.")
    beta_standard_error: float = strawberry.field(description="OLS standard error of beta.")
    alpha: float = strawberry.field(description="Intercept: mean excess return per day, fraction.")
    alpha_standard_error: float = strawberry.field(
        description="OLS standard error of alpha, fraction per day."
    )
    r_squared: float = strawberry.field(description="Share of return variance explained, 0..1.")
    observations: int = strawberry.field(description="Paired daily returns in the regression.")


@strawberry.federation.type(
    shareable=True,
    description="Risk of a daily close history over a period. Columns are parallel to "
    "`dates` unless said otherwise.",
)
class RiskReport:
    dates: list[dt.date] = strawberry.field(description="Days with a return, oldest first.")
    returns: FloatColumn = strawberry.field(
        description="Daily simple returns, close over previous close minus 1 (fraction)."
    )
    window: int = strawberry.field(description="Days per rolling-volatility window.")
    rolling_volatility: FloatColumn = strawberry.field(
        description="Annualised volatility (fraction) of the `window` returns ending on each "
        "day, from `dates[window-1]` on (length: len(dates) - window + 1)."
    )
    drawdowns: FloatColumn = strawberry.field(
        description="Close over the running peak minus 1 (fraction, <= 0), one per close: "
        "first entry is the period's first day, then one per entry of `dates`."
    )
    max_drawdown: float = strawberry.field(
        description="Deepest fall from a peak, as a positive fraction (0.55 = 55%)."
    )
    max_drawdown_peak: dt.date = strawberry.field(description="Day of the peak before it.")
    max_drawdown_trough: dt.date = strawberry.field(description="Day of its deepest close.")
    historical: TailRiskFigures = strawberry.field(
        description="Historical-simulation VaR/ES from the period's daily returns."
    )
    monte_carlo: TailRiskFigures = strawberry.field(
        description="Monte Carlo VaR/ES of normal daily returns with the period's mean and "
        "variance."
    )
    capm: CapmEstimate | None = strawberry.field(
        description="CAPM against the benchmark; null when fewer than 4 common days."
    )


Window = Annotated[
    int, strawberry.argument(description="Days per rolling-volatility window (>= 2).")
]
Confidence = Annotated[
    float, strawberry.argument(description="VaR confidence level in [0.5, 1) (0.99 = 99%).")
]
Benchmark = Annotated[
    str,
    strawberry.argument(
        description="Benchmark of the CAPM: an index (" + ", ".join(INDICES) + ") or a symbol "
        "of this subgraph with candles."
    ),
]
Samples = Annotated[
    int, strawberry.argument(description="Monte Carlo scenarios, 2 to 200,000.")
]
Seed = Annotated[int, strawberry.argument(description="Seed of the Monte Carlo draws.")]


def _tail(figures: TailRisk, level: float) -> TailRiskFigures:
    return TailRiskFigures(
        confidence_level=level,
        value_at_risk=figures.value_at_risk,
        expected_shortfall=figures.expected_shortfall,
        value_at_risk_standard_error=figures.value_at_risk_standard_error,
        expected_shortfall_standard_error=figures.expected_shortfall_standard_error,
    )


async def risk_report(
    context: RiskContext,
    symbol: str,
    start: dt.date | None,
    end: dt.date | None,
    *,
    window: int,
    confidence_level: float,
    benchmark: str,
    samples: int,
    seed: int,
    periods_per_year: float,
) -> RiskReport:
    candles: list[Candle] = await context.candles.load(candle_range(symbol, start, end))
    dates = [candle.date for candle in candles]
    check_request(dates, window, confidence_level, samples)
    closes = np.array([candle.close for candle in candles])
    if not np.all(np.isfinite(closes) & (closes > 0)):
        raise BadUserInput(f"{symbol} has non-positive closes in the period.", argument="from")
    series: BenchmarkSeries | None = await context.benchmarks.load(
        BenchmarkRange(benchmark.upper(), start, end)
    )
    if series is None:
        raise BadUserInput(
            f"Unknown benchmark {benchmark!r} (or no closes in the period): use "
            + ", ".join(INDICES) + " or a symbol with candles.",
            argument="benchmark",
        )
    figures: RiskFigures = await context.risk.load(
        RiskRequest(
            dates=dates,
            closes=closes,
            window=window,
            confidence_level=confidence_level,
            samples=samples,
            seed=seed,
            periods_per_year=periods_per_year,
            benchmark_dates=series.dates,
            benchmark_closes=np.asarray(series.closes, dtype=np.float64),
        )
    )
    capm: Any = figures.capm
    return RiskReport(
        dates=figures.return_dates,
        returns=column(figures.returns),
        window=window,
        rolling_volatility=column(figures.rolling_volatility),
        drawdowns=column(figures.drawdowns),
        max_drawdown=figures.max_drawdown,
        max_drawdown_peak=figures.peak,
        max_drawdown_trough=figures.trough,
        historical=_tail(figures.historical, confidence_level),
        monte_carlo=_tail(figures.monte_carlo, confidence_level),
        capm=None
        if capm is None
        else CapmEstimate(
            benchmark=benchmark.upper(),
            beta=capm.beta,
            beta_standard_error=capm.beta_standard_error,
            alpha=capm.alpha,
            alpha_standard_error=capm.alpha_standard_error,
            r_squared=capm.r_squared,
            observations=capm.observations,
        ),
    )


def risk_field(
    *,
    holding: str,
    year: str,
    periods_per_year: float,
    default_window: int,
    source: Callable[[Any], RiskContext],
) -> Any:
    """The `risk` field of a type with a `symbol` (`holding`: "token", "stock"), annualised
    over `periods_per_year` (`year` says it in words); `source` picks the DataLoaders out of
    the request's context."""

    async def risk(
        self: Any,
        info: Info,
        from_: From = None,
        to: To = None,
        window: Window = default_window,
        confidence_level: Confidence = 0.99,
        benchmark: Benchmark = "NASDAQ",
        monte_carlo_samples: Samples = 20_000,
        seed: Seed = 0,
    ) -> RiskReport | None:
        return await risk_report(
            source(info.context),
            self.symbol,
            from_,
            to,
            window=window,
            confidence_level=confidence_level,
            benchmark=benchmark,
            samples=monte_carlo_samples,
            seed=seed,
            periods_per_year=periods_per_year,
        )

    return strawberry.field(
        resolver=risk,
        description=f"Risk of the {holding}'s daily closes in the period: returns, rolling "
        f"volatility (annualised over {year}), drawdowns, one-day historical and Monte Carlo "
        "VaR/ES, CAPM against a benchmark.",
        directives=[Cost(weight=20)],
    )
