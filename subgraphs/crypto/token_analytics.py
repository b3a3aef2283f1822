"""Analytics fields of `Token`: risk, chart-ready histories and a model option chain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from subgraphs.candles import Candle, candle_range
from subgraphs.charts import (
    BarInterval,
    BarsRequest,
    CloseChart,
    CloseChartRequest,
    PriceBars,
    check_candles,
    check_points,
)
from subgraphs.close_history import CLOSE_HISTORY_DESCRIPTION, CloseHistory, close_history
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.option_chain import ChainRequest, OptionChain, build_chain
from subgraphs.risk_types import (
    Benchmark,
    Confidence,
    RiskReport,
    Samples,
    Seed,
    Window,
    risk_report,
)

From = Annotated[
    dt.date | None, strawberry.argument(name="from", description="First day, inclusive.")
]
To = Annotated[dt.date | None, strawberry.argument(description="Last day, inclusive.")]
CRYPTO_DAYS_PER_YEAR = 365.0  # tokens trade every day


@strawberry.type
class TokenAnalytics:
    symbol: str

    @strawberry.field(
        description="Risk of the token's daily closes in the period: returns, rolling "
        "volatility (annualised over 365 days), drawdowns, one-day historical and Monte Carlo "
        "VaR/ES, CAPM against a benchmark.",
        directives=[Cost(weight=20)],
    )
    async def risk(
        self,
        info: Info[CryptoContext, None],
        from_: From = None,
        to: To = None,
        window: Window = 30,
        confidence_level: Confidence = 0.99,
        benchmark: Benchmark = "NASDAQ",
        monte_carlo_samples: Samples = 20_000,
        seed: Seed = 0,
    ) -> RiskReport | None:
        return await risk_report(
            info.context, self.symbol, from_, to, window=window,
            confidence_level=confidence_level, benchmark=benchmark,
            samples=monte_carlo_samples, seed=seed, periods_per_year=CRYPTO_DAYS_PER_YEAR,
        )

    @strawberry.field(description=CLOSE_HISTORY_DESCRIPTION, directives=[Cost(weight=5)])
    async def close_history(self, info: Info[CryptoContext, None]) -> CloseHistory | None:
        return await close_history(info.context, self.symbol)

    @strawberry.field(
        description="Daily closes downsampled to at most `points` points (Largest-Triangle-"
        "Three-Buckets keeps the shape of the line).",
        directives=[Cost(weight=5)],
    )
    async def close_chart(
        self,
        info: Info[CryptoContext, None],
        points: Annotated[int, strawberry.argument(description="Points to keep, 3 to 10,000.")],
        from_: From = None,
        to: To = None,
    ) -> CloseChart | None:
        check_points(points)
        candles: list[Candle] = await info.context.candles.load(
            candle_range(self.symbol, from_, to)
        )
        check_candles(candles)
        chart: CloseChart = await info.context.close_charts.load(
            CloseChartRequest(candles, points)
        )
        return chart

    @strawberry.field(
        description="Daily candles resampled into weekly or monthly OHLCV bars.",
        directives=[Cost(weight=5)],
    )
    async def bars(
        self,
        info: Info[CryptoContext, None],
        interval: Annotated[BarInterval, strawberry.argument(description="WEEK or MONTH.")],
        from_: From = None,
        to: To = None,
    ) -> PriceBars | None:
        candles: list[Candle] = await info.context.candles.load(
            candle_range(self.symbol, from_, to)
        )
        check_candles(candles)
        bars: PriceBars = await info.context.bars.load(BarsRequest(candles, interval))
        return bars

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
