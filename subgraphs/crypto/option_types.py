"""GraphQL output types of option analytics: packed columns, one entry per option.

Thousands of options answer as parallel `FloatColumn` columns (`prices[i]` and `deltas[i]` are
option `i`'s), not thousands of small objects or `[Float!]!` lists, which graphql-core
completes entry by entry: benchmarks/analytics.py measures the shapes (`options { price delta
}` is kept for small requests and for that comparison).
"""

from __future__ import annotations

import strawberry

from subgraphs.columns import FloatColumn
from subgraphs.crypto.option_pricing import GreekColumns, ImpliedColumns

_PRICE = "Option prices, same currency as the strikes."
_DELTA = "dV/dU: price change per 1 unit of the underlying (spot or forward) price."
_GAMMA = "d2V/dU2: delta change per 1 unit of the underlying price."
_VEGA = "dV/dsigma: price change per 1.00 (100 percentage points) of volatility."
_THETA = "-dV/dT: price change per year of passing time (divide by 365 for a day)."
_RHO = "dV/dr: price change per 1.00 (100 percentage points) of the risk-free rate."
_VANNA = "d2V/dU dsigma: delta change per 1.00 of volatility."
_VOLGA = "d2V/dsigma2: vega change per 1.00 of volatility."


@strawberry.type(description="The price and Greeks of one option.")
class OptionValuation:
    price: float = strawberry.field(description="Price, same currency as the strike.")
    delta: float = strawberry.field(description=_DELTA)
    gamma: float = strawberry.field(description=_GAMMA)
    vega: float = strawberry.field(description=_VEGA)
    theta: float = strawberry.field(description=_THETA)
    rho: float = strawberry.field(description=_RHO)
    vanna: float = strawberry.field(description=_VANNA)
    volga: float = strawberry.field(description=_VOLGA)


@strawberry.type(
    description="Prices and Greeks of a list of options as parallel columns: entry i of "
    "every column belongs to the i-th option given."
)
class OptionAnalytics:
    count: int = strawberry.field(description="How many options were priced.")
    prices: FloatColumn = strawberry.field(description=_PRICE)
    deltas: FloatColumn = strawberry.field(description=_DELTA)
    gammas: FloatColumn = strawberry.field(description=_GAMMA)
    vegas: FloatColumn = strawberry.field(description=_VEGA)
    thetas: FloatColumn = strawberry.field(description=_THETA)
    rhos: FloatColumn = strawberry.field(description=_RHO)
    vannas: FloatColumn = strawberry.field(description=_VANNA)
    volgas: FloatColumn = strawberry.field(description=_VOLGA)

    @strawberry.field(
        description="The same figures as one object per option (convenient for a few options; "
        "the columns are several times cheaper for thousands)."
    )
    def options(self) -> list[OptionValuation]:
        return [
            OptionValuation(
                price=p, delta=d, gamma=g, vega=v, theta=t, rho=r, vanna=va, volga=vo
            )
            for p, d, g, v, t, r, va, vo in zip(
                *(
                    getattr(self, name).tolist()
                    for name in ("prices", "deltas", "gammas", "vegas", "thetas", "rhos",
                                 "vannas", "volgas")
                ),
                strict=True,
            )
        ]


def option_analytics(columns: GreekColumns) -> OptionAnalytics:
    return OptionAnalytics(
        count=int(columns.prices.shape[0]),
        prices=FloatColumn(columns.prices),
        deltas=FloatColumn(columns.deltas),
        gammas=FloatColumn(columns.gammas),
        vegas=FloatColumn(columns.vegas),
        thetas=FloatColumn(columns.thetas),
        rhos=FloatColumn(columns.rhos),
        vannas=FloatColumn(columns.vannas),
        volgas=FloatColumn(columns.volgas),
    )


@strawberry.type(
    description="Implied volatilities of a list of quoted options as parallel columns."
)
class ImpliedVolatilities:
    count: int = strawberry.field(description="How many options were solved.")
    volatilities: list[float | None] = strawberry.field(
        description="Annualised implied volatility as a fraction (0.2 = 20%); null where no "
        "volatility reproduces the price (outside the no-arbitrage bounds)."
    )
    converged: list[bool] = strawberry.field(
        description="True where the solver met its tolerance (relative 1e-12)."
    )


def implied_volatilities(columns: ImpliedColumns) -> ImpliedVolatilities:
    return ImpliedVolatilities(
        count=int(columns.volatilities.shape[0]),
        volatilities=[
            None if value != value else value for value in columns.volatilities.tolist()
        ],
        converged=columns.converged.tolist(),
    )
