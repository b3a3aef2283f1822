"""A model option chain on a token: expiries x strikes, priced by Black-Scholes-Merton.

The spot is the token's close on the valuation date; the volatility its realised volatility
(log returns over the `volatilityWindow` days to the valuation date, annualised over 365
days: tokens trade every day) unless given. Each expiry is discounted at the Treasury zero
rate of the valuation date, which macro owns: the chain is an entity whose priced fields
`@requires` its `treasuryCurve { bootstrapped { maturitiesYears zeroRates } }`, so the router
fetches that curve from macro and hands it back here (crypto never reads macro's store). A
`riskFreeRate` override replaces the curve. The chain goes through the same `option_prices`
DataLoader as `optionAnalytics`, so every chain and option list of a request is one engine
call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import strawberry
from strawberry.federation.schema_directives import FieldSet, Key
from strawberry.types import Info

from nexus.errors import BadUserInput, NotFound
from subgraphs.candles import Candle, candle_range
from subgraphs.columns import FloatColumn, column
from subgraphs.crypto.loaders import CryptoContext
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
    x: FloatColumn = strawberry.field(description="Moneyness, strike / spot (1 = at the money).")
    y: FloatColumn = strawberry.field(description="Years to expiry (ACT/365).")
    call_prices: FloatColumn = strawberry.field(description="Call prices, USD.")
    put_prices: FloatColumn = strawberry.field(description="Put prices, USD.")
    volatilities: FloatColumn = strawberry.field(
        description="Annualised volatility used at each point, fraction (flat in this model)."
    )


@strawberry.federation.type(
    shareable=True,  # macro's type: the same description, so composition keeps either
    description="The zero curve bootstrapped from the par curve: bills (1M-4M) as zero-coupon "
    "bills, then semiannual nodes from 6M to the longest published tenor. Parallel columns, one "
    "entry per node.",
)
class BootstrappedCurve:
    maturities_years: FloatColumn = strawberry.federation.field(
        shareable=True, description="Node maturities, years."
    )
    zero_rates: FloatColumn = strawberry.federation.field(
        shareable=True, description="Zero rates, percent, continuously compounded."
    )


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("date"), resolvable=False)],
    description="The US Treasury curve of a day, owned by the macro subgraph; crypto reads its "
    "bootstrapped zero rates through the router to discount option chains.",
)
class YieldCurve:
    date: dt.date = strawberry.field(description="The business day the curve was published.")
    bootstrapped: BootstrappedCurve = strawberry.federation.field(
        external=True, description="This day's zero curve, bootstrapped (macro's)."
    )


CURVE_NEEDED = ["treasuryCurve { bootstrapped { maturitiesYears zeroRates } }"]


@dataclass(frozen=True)
class ChainRequest:
    """The arguments of `Token.optionChain`; JSON-encoded they are the chain's key."""

    symbol: str
    valuation_date: dt.date
    expiries: tuple[dt.date, ...]
    strikes: tuple[float, ...] | None
    moneyness: tuple[float, ...] | None
    volatility: float | None
    volatility_window: int
    risk_free_rate: float | None

    def key(self) -> str:
        return json.dumps([
            self.symbol, self.valuation_date.isoformat(), [e.isoformat() for e in self.expiries],
            self.strikes, self.moneyness, self.volatility, self.volatility_window,
            self.risk_free_rate,
        ])

    @classmethod
    def from_key(cls, key: str) -> ChainRequest:
        try:
            symbol, day, expiries, strikes, moneyness, vol, window, rate = json.loads(key)
            return cls(
                str(symbol), dt.date.fromisoformat(day),
                tuple(dt.date.fromisoformat(e) for e in expiries),
                None if strikes is None else tuple(map(float, strikes)),
                None if moneyness is None else tuple(map(float, moneyness)),
                None if vol is None else float(vol), int(window),
                None if rate is None else float(rate),
            )
        except (ValueError, TypeError) as error:
            raise BadUserInput(f"Not an option chain id: {key!r}.", argument="id") from error


@strawberry.federation.type(
    keys=["id"],
    description="Model prices and Greeks of European calls and puts on a token: every "
    "expiry x strike, row-major by expiry (entry i * len(strikes) + j is expiries[i], "
    "strikes[j]). Each expiry is discounted at the Treasury zero rate of the valuation date "
    "(macro's bootstrapped curve, linearly interpolated in maturity, flat beyond its ends) "
    "unless a riskFreeRate was given.",
)
class OptionChain:
    id: strawberry.ID = strawberry.field(description="Opaque id of this chain (its arguments).")
    symbol: str = strawberry.field(description="The underlying token.")
    valuation_date: dt.date = strawberry.field(description="Day of the spot close used.")
    spot: float = strawberry.field(description="The token's close that day, USD.")
    volatility: float = strawberry.field(description="Annualised volatility used, fraction.")
    realised_volatility: bool = strawberry.field(
        description="True when the volatility is the token's realised one (none was given)."
    )
    expiries: list[dt.date] = strawberry.field(description="Expiry days.")
    expiry_years: FloatColumn = strawberry.field(description="Years to each expiry (ACT/365).")
    strikes: FloatColumn = strawberry.field(description="Strikes, USD.")
    treasury_curve: YieldCurve = strawberry.field(
        description="The Treasury curve of the valuation date (macro's: the last one published "
        "on or before it) that discounts the chain."
    )
    override_rate: strawberry.Private[float | None]
    years: strawberry.Private[np.ndarray]
    strike_values: strawberry.Private[np.ndarray]
    priced: strawberry.Private[dict[str, asyncio.Future[tuple[np.ndarray, GreekColumns]]]]

    @classmethod
    async def resolve_reference(
        cls, info: Info[CryptoContext, None], id: str, treasuryCurve: object = None  # noqa: N803
    ) -> OptionChain:
        chain = await build_chain(info.context, ChainRequest.from_key(str(id)))
        chain.treasury_curve = _curve_from(chain.valuation_date, treasuryCurve)
        return chain

    def _rates(self) -> np.ndarray:
        """Continuously compounded rate per expiry, fraction per year."""
        if self.override_rate is not None:
            return np.full(len(self.years), self.override_rate)
        curve = self.treasury_curve.bootstrapped
        if not len(curve.maturities_years):  # macro has no curve on or before the day
            raise NotFound(
                f"No Treasury curve on or before {self.valuation_date}: pick a later "
                "valuationDate or give riskFreeRate.", argument="valuationDate",
            )
        return np.interp(self.years, curve.maturities_years, curve.zero_rates) / 100.0

    async def _priced(self, info: Info[CryptoContext, None]) -> tuple[np.ndarray, GreekColumns]:
        if "chain" not in self.priced:  # calls, puts and surface share one engine batch
            rates = self._rates()
            future = asyncio.ensure_future(info.context.option_prices.load(
                chain_batch(self.spot, self.volatility, rates, self.years, self.strike_values)
            ))
            self.priced["chain"] = asyncio.ensure_future(_with_rates(rates, future))
        return await self.priced["chain"]

    async def _side(self, info: Info[CryptoContext, None], calls: bool) -> GreekColumns:
        _, columns = await self._priced(info)
        size = len(self.years) * len(self.strike_values)
        part = slice(0, size) if calls else slice(size, 2 * size)
        return GreekColumns(**{name: getattr(columns, name)[part] for name in GREEKS})

    @strawberry.federation.field(
        requires=CURVE_NEEDED,
        description="Continuously compounded rate used at each expiry, fraction per year.",
    )
    def risk_free_rates(self) -> FloatColumn:
        return column(self._rates())

    @strawberry.federation.field(
        requires=CURVE_NEEDED,
        description="Discount factor to each expiry, exp(-rate x years), fraction.",
    )
    def discount_factors(self) -> FloatColumn:
        return column(np.exp(-self._rates() * self.years))

    @strawberry.federation.field(requires=CURVE_NEEDED, description="Calls, row-major by expiry.")
    async def calls(self, info: Info[CryptoContext, None]) -> OptionAnalytics:
        return option_analytics(await self._side(info, calls=True))

    @strawberry.federation.field(requires=CURVE_NEEDED, description="Puts, row-major by expiry.")
    async def puts(self, info: Info[CryptoContext, None]) -> OptionAnalytics:
        return option_analytics(await self._side(info, calls=False))

    @strawberry.federation.field(
        requires=CURVE_NEEDED, description="The chain as a 3D-chart grid."
    )
    async def surface(self, info: Info[CryptoContext, None]) -> OptionSurface:
        calls = await self._side(info, calls=True)
        puts = await self._side(info, calls=False)
        return OptionSurface(
            x=(self.strike_values / self.spot).tolist(),
            y=self.years.tolist(),
            call_prices=FloatColumn(calls.prices),
            put_prices=FloatColumn(puts.prices),
            volatilities=column([self.volatility] * (len(self.years) * len(self.strike_values))),
        )


async def _with_rates(
    rates: np.ndarray, future: asyncio.Future[GreekColumns]
) -> tuple[np.ndarray, GreekColumns]:
    return rates, await future


def _curve_from(day: dt.date, representation: object) -> YieldCurve:
    """The curve the router fetched from macro (null when macro has none for the day)."""
    curve = BootstrappedCurve(maturities_years=column([]), zero_rates=column([]))
    if isinstance(representation, Mapping):
        nodes = representation.get("bootstrapped")
        if isinstance(nodes, Mapping):
            curve = BootstrappedCurve(
                maturities_years=column([float(t) for t in nodes.get("maturitiesYears") or []]),
                zero_rates=column([float(r) for r in nodes.get("zeroRates") or []]),
            )
    return YieldCurve(date=day, bootstrapped=curve)


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
    risk_free_rate: float | None,
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
    if risk_free_rate is not None and not math.isfinite(risk_free_rate):
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
    spot: float, volatility: float, rates: np.ndarray, years: np.ndarray, strikes: np.ndarray
) -> OptionBatch:
    """Calls then puts, each expiry-major over the strikes; `rates` one per expiry."""
    expiry_grid, strike_grid = np.meshgrid(years, strikes, indexing="ij")
    size = expiry_grid.size
    return OptionBatch(
        model=OptionModel.BLACK_SCHOLES_MERTON,
        strikes=np.tile(strike_grid.ravel(), 2),
        expiries=np.tile(expiry_grid.ravel(), 2),
        underlyings=np.full(2 * size, spot),
        volatilities=np.full(2 * size, volatility),
        rates=np.tile(np.repeat(rates, len(strikes)), 2),
        dividends=np.zeros(2 * size),
        calls=np.repeat([True, False], size),
    )


async def build_chain(context: CryptoContext, request: ChainRequest) -> OptionChain:
    """Spot, volatility and grid of a chain (validated); its prices wait for the curve."""
    if request.volatility_window < 2:
        raise BadUserInput("volatilityWindow must be at least 2 days.",
                           argument="volatilityWindow")
    start = request.valuation_date - dt.timedelta(days=request.volatility_window)
    candles: list[Candle] = await context.candles.load(
        candle_range(request.symbol, start, request.valuation_date)
    )
    spot, vol, years, strike_values = chain_inputs(
        candles, request.valuation_date, request.expiries, request.strikes, request.moneyness,
        request.volatility, request.risk_free_rate,
    )
    return OptionChain(
        id=strawberry.ID(request.key()),
        symbol=request.symbol,
        valuation_date=request.valuation_date,
        spot=spot,
        volatility=vol,
        realised_volatility=request.volatility is None,
        expiries=list(request.expiries),
        expiry_years=years.tolist(),
        strikes=strike_values.tolist(),
        treasury_curve=_curve_from(request.valuation_date, None),
        override_rate=request.risk_free_rate,
        years=years,
        strike_values=strike_values,
        priced={},
    )
