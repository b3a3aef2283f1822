"""A watchlist's portfolio risk from the close histories the router hands to platform.

`Watchlist.risk` `@requires` every item's `closeHistory` (crypto's `Token`, micro's `Stock`):
the router fetches them from the owning subgraphs and sends them back in the watchlist's
representation, so platform never reads another subgraph's store. Here the histories are
aligned on the days every priced item has a close (a token trades daily, a stock on
business days: returns are taken between common days, so each return spans the same time
for every asset), and all watchlists of a request with the same shape are computed in ONE
call of the jitted `portfolio_risk` engine, in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from nexus.errors import BadUserInput
from nexus.metrics import engine_call

TRADING_DAYS_PER_YEAR = 252.0  # any stock in the portfolio: business-day returns
CALENDAR_DAYS_PER_YEAR = 365.0  # tokens only: they trade every day


@dataclass(frozen=True, slots=True)
class PricedItem:
    """One TOKEN or STOCK item of the watchlist and the history the router brought."""

    kind: str
    key: str
    dates: tuple[dt.date, ...]
    closes: np.ndarray


@dataclass(eq=False, slots=True)
class PortfolioRequest:
    """One `Watchlist.risk` field: aligned returns [A, T] and weights [A]."""

    items: list[PricedItem]
    days: list[dt.date]  # the common days with a close; a return between each pair
    returns: np.ndarray
    weights: np.ndarray
    confidence_level: float
    periods_per_year: float


@dataclass(frozen=True, slots=True)
class PortfolioFigures:
    covariance: np.ndarray
    correlation: np.ndarray
    volatility: float
    contributions: np.ndarray
    asset_volatilities: np.ndarray
    historical_var: float
    historical_es: float
    normal_var: float
    normal_es: float


def priced_items(
    stored: Sequence[tuple[str, str]], representation: object
) -> tuple[list[PricedItem], list[str]]:
    """The stored items with a usable history (in watchlist order), and the keys left out.

    Only (kind, key) pairs that are stored in the watchlist are read from the representation,
    so a representation cannot add instruments the watchlist does not hold.
    """
    histories: dict[tuple[str, str], Mapping[str, object]] = {}
    if isinstance(representation, Sequence):
        for entry in representation:
            if not isinstance(entry, Mapping):
                continue
            instrument = entry.get("instrument")
            history = instrument.get("closeHistory") if isinstance(instrument, Mapping) else None
            if isinstance(history, Mapping):
                histories[(str(entry.get("kind")), str(entry.get("key")))] = history
    priced: list[PricedItem] = []
    skipped: list[str] = []
    for kind, key in stored:
        history = histories.get((kind, key))
        item = _item(kind, key, history) if kind in ("TOKEN", "STOCK") and history else None
        if item is None:
            skipped.append(key)
        else:
            priced.append(item)
    return priced, skipped


def _item(kind: str, key: str, history: Mapping[str, object]) -> PricedItem | None:
    try:
        dates = tuple(dt.date.fromisoformat(str(day)) for day in history["dates"])  # type: ignore[attr-defined]
        closes = np.asarray(history["closes"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return None
    if closes.ndim != 1 or len(closes) != len(dates) or len(dates) < 3:
        return None
    return PricedItem(kind, key, dates, closes)


def build_request(
    items: list[PricedItem],
    start: dt.date | None,
    end: dt.date | None,
    weights: Sequence[float] | None,
    confidence_level: float,
) -> PortfolioRequest:
    """Aligned returns and checked options; BAD_USER_INPUT before any engine runs."""
    if not 0.5 <= confidence_level < 1:
        raise BadUserInput(
            f"confidenceLevel={confidence_level} must lie in [0.5, 1) (0.99 = 99%).",
            argument="confidenceLevel",
        )
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    if not items:
        raise BadUserInput(
            "The watchlist holds no token or stock with a close history: add one "
            "(FRED series carry no prices).", argument="id",
        )
    chosen = _weights(weights, len(items))
    common = reduce(set.intersection, (set(item.dates) for item in items[1:]), set(items[0].dates))
    days = sorted(day for day in common
                  if (start is None or day >= start) and (end is None or day <= end))
    if len(days) < 3:
        raise BadUserInput(
            f"Its {len(items)} priced items share {len(days)} days with a close in the period; "
            "risk needs at least 3: widen `from`/`to` or remove an item with a short history.",
            argument="from",
        )
    closes = np.stack([_closes_on(item, days) for item in items])
    if not np.all(np.isfinite(closes) & (closes > 0)):
        raise BadUserInput("An item has a non-positive close in the period.", argument="from")
    periods = TRADING_DAYS_PER_YEAR if any(i.kind == "STOCK" for i in items) else (
        CALENDAR_DAYS_PER_YEAR
    )
    return PortfolioRequest(
        items=items, days=days, returns=closes[:, 1:] / closes[:, :-1] - 1.0,
        weights=chosen, confidence_level=confidence_level, periods_per_year=periods,
    )


def _weights(weights: Sequence[float] | None, count: int) -> np.ndarray:
    if weights is None:
        return np.full(count, 1.0 / count)
    chosen = np.asarray(weights, dtype=np.float64)
    if chosen.shape != (count,):
        raise BadUserInput(
            f"weights has {chosen.size} entries; the watchlist has {count} priced items (its "
            "tokens and stocks, in order).", argument="weights",
        )
    bad = np.flatnonzero(~np.isfinite(chosen))
    if bad.size:
        raise BadUserInput(f"weights[{bad[0]}] is not a finite number.", argument="weights")
    if not abs(chosen.sum()) > 1e-12:
        raise BadUserInput("weights sum to 0; give fractions of value that sum to 1.",
                           argument="weights")
    return chosen


def _closes_on(item: PricedItem, days: list[dt.date]) -> np.ndarray:
    index = {day: i for i, day in enumerate(item.dates)}
    return item.closes[[index[day] for day in days]]


@engine_call("portfolio_risk")
def compute_portfolios(requests: Sequence[PortfolioRequest]) -> list[PortfolioFigures]:
    """Figures of every request: one engine call per (assets, days, level) shape."""
    # Imported here: benchmark scripts run as files (benchmarks/ first on sys.path, where
    # benchmarks/engines.py shadows the `engines` package) import platform but never call this.
    from engines import risk

    groups: dict[tuple[int, int, float], list[int]] = defaultdict(list)
    for index, request in enumerate(requests):
        groups[(*request.returns.shape, request.confidence_level)].append(index)
    figures: list[PortfolioFigures | None] = [None] * len(requests)
    for (_, _, level), members in groups.items():
        result = risk.portfolio_risk(
            returns=np.stack([requests[i].returns for i in members]),
            weights=np.stack([requests[i].weights for i in members]),
            confidence_level=level,
        )
        host = [np.asarray(column) for column in result]
        cov, corr, vol, contrib, h_var, h_es, n_var, n_es = host
        for row, i in enumerate(members):
            figures[i] = PortfolioFigures(
                covariance=cov[row], correlation=corr[row], volatility=float(vol[row]),
                contributions=contrib[row], asset_volatilities=np.sqrt(np.diag(cov[row])),
                historical_var=float(h_var[row]), historical_es=float(h_es[row]),
                normal_var=float(n_var[row]), normal_es=float(n_es[row]),
            )
    return figures  # type: ignore[return-value]


async def portfolio_batches(requests: Sequence[PortfolioRequest]) -> list[PortfolioFigures]:
    """DataLoader batch function: `compute_portfolios` off the event loop."""
    return await asyncio.to_thread(compute_portfolios, requests)
