"""A model option chain on a token: expiries x strikes, priced by Black-Scholes-Merton.

The spot is the token's close on the valuation date; the volatility its realised volatility
(log returns over the `volatilityWindow` days to the valuation date, annualised over 365
days: tokens trade every day) unless given. The risk-free rate is an argument: macro owns the
Treasury curve and federating it into this field is not built yet (see the README).
The chain goes through the same `option_prices` DataLoader as `optionAnalytics`, so every
chain and option list of a request is one engine call.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import strawberry

from nexus.errors import BadUserInput
from subgraphs.candles import Candle
from subgraphs.columns import FloatColumn
from subgraphs.crypto.option_inputs import OptionBatch, OptionModel
from subgraphs.crypto.option_pricing import GREEKS, GreekColumns
from subgraphs.crypto.option_types import OptionAnalytics, option_analytics

MAX_EXPIRIES = 60
MAX_STRIKES = 400
DAYS_PER_YEAR = 365.0


@strawberry.type(
    description="A grid for 3D charts: x (moneyness, strike over spot) by y (years to "
    "expiry); z columns are row-major by expiry: z[i * len(x) + j] is at (x[j], y[i])."
)
class OptionSurface:
    x: list[float] = strawberry.field(description="Moneyness, strike / spot (1 = at the money).")
    y: list[float] = strawberry.field(description="Years to expiry (ACT/365).")
    call_prices: FloatColumn = strawberry.field(description="Call prices, USD.")
    put_prices: FloatColumn = strawberry.field(description="Put prices, USD.")
    volatilities: list[float] = strawberry.field(
        description="Annualised volatility used at each point, fraction (flat in this model)."
    )


@strawberry.type(
    description="Model prices and Greeks of European calls and puts on a token: every "
    "expiry x strike, row-major by expiry (entry i * len(strikes) + j is expiries[i], "
    "strikes[j])."
)
class OptionChain:
    symbol: str = strawberry.field(description="The underlying token.")
    valuation_date: dt.date = strawberry.field(description="Day of the spot close used.")
    spot: float = strawberry.field(description="The token's close that day, USD.")
    volatility: float = strawberry.field(description="Annualised volatility used, fraction.")
    realised_volatility: bool = strawberry.field(
        description="True when the volatility is the token's realised one (none was given)."
    )
    risk_free_rate: float = strawberry.field(
        description="Continuously compounded rate used, fraction per year."
    )
    expiries: list[dt.date] = strawberry.field(description="Expiry days.")
    expiry_years: list[float] = strawberry.field(description="Years to each expiry (ACT/365).")
    strikes: list[float] = strawberry.field(description="Strikes, USD.")
    calls: OptionAnalytics = strawberry.field(description="Calls, row-major by expiry.")
    puts: OptionAnalytics = strawberry.field(description="Puts, row-major by expiry.")
    surface: OptionSurface = strawberry.field(description="The chain as a 3D-chart grid.")


def _finite_positive(argument: str, values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(array) & (array > 0)))
    if bad.size:
        index = int(bad[0])
        raise BadUserInput(
            f"{argument}[{index}] is {array[index]!r}: it must be a finite number > 0.",
            argument=argument, index=index,
        )
    return array


def chain_inputs(
    candles: Sequence[Candle],
    valuation_date: dt.date,
    expiries: Sequence[dt.date],
    strikes: Sequence[float] | None,
    moneyness: Sequence[float] | None,
    volatility: float | None,
    risk_free_rate: float,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Spot, volatility, expiry years and strikes, validated (BAD_USER_INPUT otherwise)."""
    if (strikes is None) == (moneyness is None):
        raise BadUserInput("Give exactly one of `strikes` or `moneyness`.", argument="strikes")
    grid = strikes if strikes is not None else moneyness
    name = "strikes" if strikes is not None else "moneyness"
    if not expiries or not grid:
        raise BadUserInput("`expiries` and `strikes`/`moneyness` must not be empty.",
                           argument="expiries" if not expiries else name)
    if len(expiries) > MAX_EXPIRIES or len(grid) > MAX_STRIKES:
        raise BadUserInput(
            f"At most {MAX_EXPIRIES} expiries and {MAX_STRIKES} strikes per chain.",
            argument="expiries",
        )
    for index, expiry in enumerate(expiries):
        if expiry <= valuation_date:
            raise BadUserInput(
                f"expiries[{index}] ({expiry}) is not after the valuation date "
                f"({valuation_date}).", argument="expiries", index=index,
            )
    if not math.isfinite(risk_free_rate):
        raise BadUserInput("riskFreeRate must be a finite number.", argument="riskFreeRate")
    if volatility is not None and not (math.isfinite(volatility) and volatility >= 0):
        raise BadUserInput(f"volatility={volatility} must be finite and >= 0.",
                           argument="volatility")
    if not candles or candles[-1].date != valuation_date:
        raise BadUserInput(f"No close on the valuation date {valuation_date}: pick a day with "
                           "data.", argument="valuationDate")
    spot = candles[-1].close
    values = _finite_positive(name, grid)
    strike_values = values if strikes is not None else values * spot
    if volatility is None:
        closes = np.array([c.close for c in candles])
        if closes.size < 3:
            raise BadUserInput("Too few closes for a realised volatility: give `volatility`.",
                               argument="volatility")
        volatility = float(np.std(np.diff(np.log(closes)), ddof=1) * math.sqrt(DAYS_PER_YEAR))
    years = np.array([(e - valuation_date).days / DAYS_PER_YEAR for e in expiries])
    return spot, volatility, years, strike_values


def chain_batch(
    spot: float, volatility: float, rate: float, years: np.ndarray, strikes: np.ndarray
) -> OptionBatch:
    """Calls then puts, each expiry-major over the strikes."""
    expiry_grid, strike_grid = np.meshgrid(years, strikes, indexing="ij")
    size = expiry_grid.size
    return OptionBatch(
        model=OptionModel.BLACK_SCHOLES_MERTON,
        strikes=np.tile(strike_grid.ravel(), 2),
        expiries=np.tile(expiry_grid.ravel(), 2),
        underlyings=np.full(2 * size, spot),
        volatilities=np.full(2 * size, volatility),
        rates=np.full(2 * size, rate),
        dividends=np.zeros(2 * size),
        calls=np.repeat([True, False], size),
    )


def option_chain(
    symbol: str,
    valuation_date: dt.date,
    expiries: Sequence[dt.date],
    spot: float,
    volatility: float,
    realised: bool,
    rate: float,
    years: np.ndarray,
    strikes: np.ndarray,
    columns: GreekColumns,
) -> OptionChain:
    size = len(years) * len(strikes)
    calls = GreekColumns(**{name: getattr(columns, name)[:size] for name in GREEKS})
    puts = GreekColumns(**{name: getattr(columns, name)[size:] for name in GREEKS})
    return OptionChain(
        symbol=symbol,
        valuation_date=valuation_date,
        spot=spot,
        volatility=volatility,
        realised_volatility=realised,
        risk_free_rate=rate,
        expiries=list(expiries),
        expiry_years=years.tolist(),
        strikes=strikes.tolist(),
        calls=option_analytics(calls),
        puts=option_analytics(puts),
        surface=OptionSurface(
            x=(strikes / spot).tolist(),
            y=years.tolist(),
            call_prices=FloatColumn(calls.prices),
            put_prices=FloatColumn(puts.prices),
            volatilities=[volatility] * size,
        ),
    )
