"""Risk of a price history: returns, rolling volatility, drawdowns, VaR/ES and CAPM.

Shared by crypto (`Token.risk`) and micro (`Stock.risk`): each subgraph reads the closes (and
its benchmark's closes) from its own store, then hands a `RiskRequest` to its `risk`
DataLoader. The batch function computes every request of the GraphQL request together: one
call per engine function for all requests whose series have the same length (the engines are
batch-first over equal-length series; a request for several symbols over one period is one
group), and one Monte Carlo VaR call for all of them. Engines run in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from engines.risk import (
    capm_regressions,
    drawdowns,
    historical_var,
    monte_carlo_var,
    rolling_volatility,
    simple_returns,
)
from nexus.errors import BadUserInput
from nexus.metrics import engine_call

MAX_MONTE_CARLO_SAMPLES = 200_000
K = TypeVar("K")


@dataclass(eq=False)
class RiskRequest:
    """One `risk` field: a symbol's closes (oldest first) and its options."""

    dates: list[dt.date]
    closes: np.ndarray
    window: int
    confidence_level: float
    samples: int
    seed: int
    periods_per_year: float
    benchmark_dates: list[dt.date]
    benchmark_closes: np.ndarray


@dataclass(frozen=True, slots=True)
class TailRisk:
    value_at_risk: float
    expected_shortfall: float
    value_at_risk_standard_error: float
    expected_shortfall_standard_error: float


@dataclass(frozen=True, slots=True)
class CapmFigures:
    beta: float
    beta_standard_error: float
    alpha: float
    alpha_standard_error: float
    r_squared: float
    observations: int


@dataclass(frozen=True, slots=True)
class RiskFigures:
    return_dates: list[dt.date]
    returns: list[float]
    rolling_volatility: list[float]
    drawdowns: list[float]
    max_drawdown: float
    peak: dt.date
    trough: dt.date
    historical: TailRisk
    monte_carlo: TailRisk
    capm: CapmFigures | None


def check_request(
    dates: Sequence[dt.date], window: int, confidence_level: float, samples: int
) -> None:
    """BAD_USER_INPUT before any engine runs: too little data or options out of range."""
    if not 0.5 <= confidence_level < 1:
        raise BadUserInput(
            f"confidenceLevel={confidence_level} must lie in [0.5, 1) (0.99 = 99%).",
            argument="confidenceLevel",
        )
    if window < 2:
        raise BadUserInput(f"window={window} must be at least 2 days.", argument="window")
    if not 2 <= samples <= MAX_MONTE_CARLO_SAMPLES:
        raise BadUserInput(
            f"monteCarloSamples={samples} must lie in [2, {MAX_MONTE_CARLO_SAMPLES}].",
            argument="monteCarloSamples",
        )
    if len(dates) < window + 1:
        raise BadUserInput(
            f"The period holds {len(dates)} daily closes; a {window}-day window needs at least "
            f"{window + 1}: widen `from`/`to` or shorten `window`.",
            argument="from",
        )


def _aligned(request: RiskRequest) -> tuple[np.ndarray, np.ndarray]:
    """Closes of the asset and the benchmark on the days both have one."""
    positions = {day: i for i, day in enumerate(request.dates)}
    pairs = [
        (positions[day], j) for j, day in enumerate(request.benchmark_dates) if day in positions
    ]
    if len(pairs) < 4:
        return np.empty(0), np.empty(0)
    asset, bench = (np.asarray(index) for index in zip(*pairs, strict=True))
    return request.closes[asset], request.benchmark_closes[bench]


def _groups(sizes: Sequence[K]) -> dict[K, list[int]]:
    found: dict[K, list[int]] = defaultdict(list)
    for index, size in enumerate(sizes):
        found[size].append(index)
    return found


def _tail(measures: object, row: int) -> TailRisk:
    def value(name: str) -> float:
        return float(np.asarray(getattr(measures, name))[row])

    return TailRisk(
        value("value_at_risk"),
        value("expected_shortfall"),
        value("var_standard_errors"),
        value("es_standard_errors"),
    )


@engine_call("risk")
def compute_risk(requests: Sequence[RiskRequest]) -> list[RiskFigures]:
    """Figures of every request; one engine call per function per same-length group."""
    n = len(requests)
    returns: list[np.ndarray] = [np.empty(0)] * n
    vols: list[list[float]] = [[]] * n
    downs: list[tuple[list[float], float, int, int]] = [([], 0.0, 0, 0)] * n
    historical: list[TailRisk | None] = [None] * n
    shapes = [(len(r.closes), r.window, r.confidence_level) for r in requests]
    for (_, window, level), members in _groups(shapes).items():
        prices = np.stack([requests[i].closes for i in members])
        simple = np.asarray(simple_returns(prices=prices))
        rolling = np.asarray(
            rolling_volatility(
                returns=simple, window=window,
                periods_per_year=requests[members[0]].periods_per_year,
            )
        )
        dd = drawdowns(prices=prices)
        tail = historical_var(
            returns=simple, weights=np.eye(len(members)), confidence_level=level
        )
        series = np.asarray(dd.drawdowns)
        for row, i in enumerate(members):
            returns[i] = simple[row]
            vols[i] = rolling[row].tolist()
            downs[i] = (
                series[row].tolist(),
                float(np.asarray(dd.max_drawdowns)[row]),
                int(np.asarray(dd.peak_indices)[row]),
                int(np.asarray(dd.trough_indices)[row]),
            )
            historical[i] = _tail(tail, row)

    monte_carlo: list[TailRisk | None] = [None] * n
    options = [(r.confidence_level, r.samples, r.seed) for r in requests]
    for (level, samples, seed), members in _groups(options).items():
        # Each symbol alone: a diagonal covariance and unit weights, all in one draw.
        means = np.array([returns[i].mean() for i in members])
        variances = np.array([returns[i].var(ddof=1) for i in members])
        tail = monte_carlo_var(
            means=means, covariances=np.diag(variances), weights=np.eye(len(members)),
            confidence_level=level, num_samples=samples, seed=seed,
        )
        for row, i in enumerate(members):
            monte_carlo[i] = _tail(tail, row)

    capm: list[CapmFigures | None] = [None] * n
    aligned = [_aligned(r) for r in requests]
    for length, members in _groups([len(a) for a, _ in aligned]).items():
        if length < 4:
            continue
        asset = np.asarray(simple_returns(prices=np.stack([aligned[i][0] for i in members])))
        market = np.asarray(simple_returns(prices=np.stack([aligned[i][1] for i in members])))
        fit = capm_regressions(asset_returns=asset, market_returns=market)
        for row, i in enumerate(members):
            capm[i] = CapmFigures(
                beta=float(np.asarray(fit.betas)[row]),
                beta_standard_error=float(np.asarray(fit.beta_standard_errors)[row]),
                alpha=float(np.asarray(fit.alphas)[row]),
                alpha_standard_error=float(np.asarray(fit.alpha_standard_errors)[row]),
                r_squared=float(np.asarray(fit.r_squared)[row]),
                observations=int(asset.shape[-1]),
            )

    figures = []
    for i, request in enumerate(requests):
        drawn, deepest, peak, trough = downs[i]
        figures.append(
            RiskFigures(
                return_dates=request.dates[1:],
                returns=returns[i].tolist(),
                rolling_volatility=vols[i],
                drawdowns=drawn,
                max_drawdown=deepest,
                peak=request.dates[peak],
                trough=request.dates[trough],
                historical=historical[i],  # type: ignore[arg-type]
                monte_carlo=monte_carlo[i],  # type: ignore[arg-type]
                capm=capm[i],
            )
        )
    return figures


async def risk_batches(requests: Sequence[RiskRequest]) -> list[RiskFigures]:
    """DataLoader batch function: `compute_risk` off the event loop."""
    return await asyncio.to_thread(compute_risk, requests)
