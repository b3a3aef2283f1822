"""Analytics fields of `Token`: risk, chart-ready histories and a model option chain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from subgraphs.charts import bars_field, close_chart_field
from subgraphs.close_history import CLOSE_HISTORY_DESCRIPTION, CloseHistory, close_history
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.option_chain import ChainRequest, OptionChain, build_chain
from subgraphs.risk_types import risk_field

CRYPTO_DAYS_PER_YEAR = 365.0  # tokens trade every day


@strawberry.type
class TokenAnalytics:
    symbol: str

    risk = risk_field(
        holding="token",
        year="365 days",
        periods_per_year=CRYPTO_DAYS_PER_YEAR,
        default_window=30,
        source=lambda context: context,
    )

    @strawberry.field(description=CLOSE_HISTORY_DESCRIPTION, directives=[Cost(weight=5)])
    async def close_history(self, info: Info[CryptoContext, None]) -> CloseHistory | None:
        return await close_history(info.context, self.symbol)

    close_chart = close_chart_field(lambda context: context)
    bars = bars_field(lambda context: context)

    @strawberry.field(
        description="A model chain of European calls and puts on the token (Black-Scholes-"
        "Merton on its close), discounted with the Treasury curve of valuationDate (from "
        "macro, through the router) unless riskFreeRate is given, with all Greeks and a 3D "
        "surface grid.",
        directives=[Cost(weight=20)],
    )
    async def option_chain(
        self,
        info: Info[CryptoContext, None],
        valuation_date: Annotated[
            dt.date, strawberry.argument(description="Day whose close is the spot.")
        ],
        expiries: Annotated[
            list[dt.date],
            strawberry.argument(description="Expiry days, each after valuationDate (<= 60)."),
        ],
        strikes: Annotated[
            list[float] | None,
            strawberry.argument(description="Strikes in USD (give these or moneyness)."),
        ] = None,
        moneyness: Annotated[
            list[float] | None,
            strawberry.argument(description="Strikes as fractions of the spot (1 = at the "
                                "money); give these or strikes."),
        ] = None,
        volatility: Annotated[
            float | None,
            strawberry.argument(description="Annualised volatility, fraction; default the "
                                "token's realised volatility over volatilityWindow."),
        ] = None,
        volatility_window: Annotated[
            int,
            strawberry.argument(description="Days of log returns for the realised "
                                "volatility (>= 2)."),
        ] = 30,
        risk_free_rate: Annotated[
            float | None,
            strawberry.argument(
                description="Continuously compounded rate, fraction per year (0.04 = 4%), "
                "to use at every expiry instead of the Treasury curve of valuationDate."
            ),
        ] = None,
    ) -> OptionChain | None:
        request = ChainRequest(
            self.symbol, valuation_date, tuple(expiries),
            None if strikes is None else tuple(strikes),
            None if moneyness is None else tuple(moneyness),
            volatility, volatility_window, risk_free_rate,
        )
        return await build_chain(info.context, request)
