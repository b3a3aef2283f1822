"""`Watchlist.risk`: the portfolio risk of a watchlist's tokens and stocks, via @requires.

How it flows: the router fetches the watchlist from platform with its items, then each
item's `closeHistory` from crypto (tokens) or micro (stocks), then calls platform's
`_entities` with the watchlist's representation carrying those histories; platform aligns
them and makes one `portfolio_risk` engine call for every watchlist of the request.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import numpy as np
import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from subgraphs.columns import FloatColumn
from subgraphs.platform.models import InstrumentKind
from subgraphs.platform.portfolio import (
    PortfolioFigures,
    PortfolioRequest,
    build_request,
    priced_items,
)

HISTORY = "closeHistory { dates closes }"
HISTORIES_NEEDED = [
    f"items {{ kind key instrument {{ ... on Token {{ {HISTORY} }} "
    f"... on Stock {{ {HISTORY} }} }} }}"
]


@strawberry.type(description="One priced item's share of the watchlist's risk.")
class RiskContribution:
    kind: InstrumentKind = strawberry.field(description="TOKEN or STOCK.")
    key: str = strawberry.field(description="The item's symbol.")
    weight: float = strawberry.field(description="Its weight, fraction of the portfolio's value.")
    volatility: float = strawberry.field(
        description="Its own volatility of daily returns (common days), fraction per day."
    )
    volatility_contribution: float = strawberry.field(
        description="Euler contribution w_i (S w)_i / sigma_p to the portfolio's daily "
        "volatility, fraction per day; the contributions sum to `volatility`."
    )
    share: float = strawberry.field(
        description="volatilityContribution over the portfolio's volatility, fraction (can be "
        "negative for a hedge); 0 when the portfolio's volatility is 0."
    )


@strawberry.type(
    description="Risk of a watchlist held as a portfolio of its tokens and stocks, from "
    "daily simple returns between the days every priced item has a close. Matrices are "
    "row-major over `keys`: entry i * len(keys) + j is (keys[i], keys[j])."
)
class WatchlistRisk:
    keys: list[str] = strawberry.field(
        description="Priced items (tokens and stocks), in watchlist order."
    )
    skipped_keys: list[str] = strawberry.field(
        description="Items left out: FRED series (no prices) and instruments whose subgraph "
        "has no close history for them."
    )
    weights: FloatColumn = strawberry.field(
        description="Weight of each priced item, fraction of value (equal unless given)."
    )
    first_date: dt.date = strawberry.field(description="First common day with a close.")
    last_date: dt.date = strawberry.field(description="Last common day with a close.")
    observations: int = strawberry.field(description="Daily returns used per item.")
    periods_per_year: float = strawberry.field(
        description="Periods per year used to annualise: 252 with any stock, else 365."
    )
    confidence_level: float = strawberry.field(description="The VaR level (0.99 = 99%).")
    volatility: float = strawberry.field(
        description="Volatility of the portfolio's daily return, fraction per day."
    )
    annualised_volatility: float = strawberry.field(
        description="volatility x sqrt(periodsPerYear), fraction per year."
    )
    historical_value_at_risk: float = strawberry.field(
        description="One-day historical VaR, the loss not exceeded with the confidence "
        "level, positive fraction of value."
    )
    historical_expected_shortfall: float = strawberry.field(
        description="One-day historical expected shortfall (mean loss beyond the VaR), "
        "fraction of value."
    )
    normal_value_at_risk: float = strawberry.field(
        description="One-day parametric VaR with normal returns (mean and covariance of the "
        "period), fraction of value."
    )
    normal_expected_shortfall: float = strawberry.field(
        description="One-day parametric expected shortfall with normal returns, fraction of value."
    )
    contributions: list[RiskContribution] = strawberry.field(
        description="Each priced item's volatility and Euler contribution, in `keys` order."
    )
    covariance: FloatColumn = strawberry.field(
        description="Covariance of daily returns, fraction^2 per day, row-major."
    )
    correlation: FloatColumn = strawberry.field(
        description="Pearson correlation of daily returns, -1..1, row-major."
    )


def watchlist_risk(request: PortfolioRequest, skipped: list[str],
                   figures: PortfolioFigures) -> WatchlistRisk:
    vol = figures.volatility
    return WatchlistRisk(
        keys=[item.key for item in request.items],
        skipped_keys=skipped,
        weights=request.weights.tolist(),
        first_date=request.days[0],
        last_date=request.days[-1],
        observations=len(request.days) - 1,
        periods_per_year=request.periods_per_year,
        confidence_level=request.confidence_level,
        volatility=vol,
        annualised_volatility=vol * float(np.sqrt(request.periods_per_year)),
        historical_value_at_risk=figures.historical_var,
        historical_expected_shortfall=figures.historical_es,
        normal_value_at_risk=figures.normal_var,
        normal_expected_shortfall=figures.normal_es,
        contributions=[
            RiskContribution(
                kind=InstrumentKind(item.kind), key=item.key,
                weight=float(request.weights[i]),
                volatility=float(figures.asset_volatilities[i]),
                volatility_contribution=float(figures.contributions[i]),
                share=float(figures.contributions[i] / vol) if vol > 0 else 0.0,
            )
            for i, item in enumerate(request.items)
        ],
        covariance=FloatColumn(figures.covariance.reshape(-1)),
        correlation=FloatColumn(figures.correlation.reshape(-1)),
    )


From = Annotated[
    dt.date | None,
    strawberry.argument(name="from", description="First day, inclusive; open if null."),
]
To = Annotated[
    dt.date | None, strawberry.argument(description="Last day, inclusive; open if null.")
]
Weights = Annotated[
    list[float] | None,
    strawberry.argument(
        description="Weight of each priced item (its tokens and stocks, in watchlist order), "
        "fraction of value, summing to a non-zero total (negative for shorts); default equal."
    ),
]
Level = Annotated[
    float, strawberry.argument(description="VaR confidence level in [0.5, 1) (0.99 = 99%).")
]


@strawberry.type
class WatchlistRiskField:
    """Mixed into `Watchlist`: `stored_items` and `required_items` are set by it."""

    @strawberry.federation.field(
        requires=HISTORIES_NEEDED,
        description="Risk of the watchlist's tokens and stocks held together: covariance, "
        "correlation, volatility, one-day VaR/ES (historical and normal) and each item's "
        "contribution, computed by platform from the close histories the router fetches "
        "from crypto and micro.",
        directives=[Cost(weight=30)],
    )
    async def risk(
        self,
        info: Info,
        from_: From = None,
        to: To = None,
        weights: Weights = None,
        confidence_level: Level = 0.99,
    ) -> WatchlistRisk | None:  # nullable: a bad option nulls only this field
        rows = await info.context.loaders.items.load(self.id)  # type: ignore[attr-defined]
        stored = [(row.kind, row.key) for row in rows]
        required: Any = getattr(self, "required_items", None)
        items, skipped = priced_items(stored, required)
        request = build_request(items, from_, to, weights, confidence_level)
        figures: PortfolioFigures = await info.context.loaders.portfolios.load(request)
        return watchlist_risk(request, skipped, figures)
