"""Options through the crypto subgraph: prices, Greeks, implied vols, chains, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import QuantLib as ql  # noqa: N813

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import option_pricing, subgraph
from tests.support.graphql import execute

ANALYTICS = """query($model: OptionModel!, $options: [OptionInput!]!) {
  optionAnalytics(model: $model, options: $options) {
    count prices deltas gammas vegas thetas rhos vannas volgas
  }
}"""


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many options each call of the (real) Greeks engine priced."""
    calls: list[int] = []
    real = option_pricing.option_greeks

    def counted(**kwargs: Any) -> Any:
        calls.append(int(np.size(kwargs["strikes"])))
        return real(**kwargs)

    monkeypatch.setattr(option_pricing, "option_greeks", counted)
    return calls


def option(**overrides: Any) -> dict[str, Any]:
    return {
        "right": "CALL", "strike": 100.0, "expiryYears": 1.0, "underlyingPrice": 100.0,
        "volatility": 0.2, "riskFreeRate": 0.05, **overrides,
    }


def quantlib_call(spot: float, strike: float, years: float, vol: float, rate: float,
                  dividend: float, call: bool) -> tuple[float, float, float]:
    """Price, delta and gamma from QuantLib's analytic European engine."""
    today = ql.Date(15, 11, 2022)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    expiry = today + round(years * 365)
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, dividend, day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, rate, day_count)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol,
                                                           day_count)),
    )
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, strike)
    instrument = ql.VanillaOption(payoff, ql.EuropeanExercise(expiry))
    instrument.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return instrument.NPV(), instrument.delta(), instrument.gamma()


async def test_prices_and_greeks_match_quantlib(stores: Stores) -> None:
    options = [
        option(),
        option(right="PUT", strike=1200.0, underlyingPrice=1251.74, volatility=0.9,
               expiryYears=91 / 365, riskFreeRate=0.04, dividendYield=0.01),
    ]
    response = await execute(subgraph, stores, ANALYTICS,
                             {"model": "BLACK_SCHOLES_MERTON", "options": options})
    result = response["data"]["optionAnalytics"]
    assert result["count"] == 2
    for i, (spot, strike, years, vol, rate, dividend, call) in enumerate(
        [
            (100.0, 100.0, 1.0, 0.2, 0.05, 0.0, True),
            (1251.74, 1200.0, 91 / 365, 0.9, 0.04, 0.01, False),
        ]
    ):
        price, delta, gamma = quantlib_call(spot, strike, years, vol, rate, dividend, call)
        assert result["prices"][i] == pytest.approx(price, rel=1e-9)
        assert result["deltas"][i] == pytest.approx(delta, rel=1e-9)
        assert result["gammas"][i] == pytest.approx(gamma, rel=1e-9)
    assert result["vegas"][0] == pytest.approx(37.524035, rel=1e-6)
    assert result["thetas"][0] == pytest.approx(-6.414028, rel=1e-6)


async def test_black_76_prices_a_forward_with_parity(stores: Stores) -> None:
    options = [option(underlyingPrice=55.0, strike=50.0, expiryYears=2.0, volatility=0.3,
                      riskFreeRate=0.04, right=right) for right in ("CALL", "PUT")]
    response = await execute(subgraph, stores, ANALYTICS,
                             {"model": "BLACK_76", "options": options})
    call, put = response["data"]["optionAnalytics"]["prices"]
    assert put == pytest.approx(6.03524229, rel=1e-8)
    assert call - put == pytest.approx(np.exp(-0.08) * (55.0 - 50.0), rel=1e-10)


@pytest.mark.parametrize("count", [1, 500])
async def test_one_engine_call_prices_every_option_of_a_request(
    stores: Stores, engine_calls: list[int], count: int
) -> None:
    options = [option(strike=50.0 + i * 0.2) for i in range(count)]
    query = """query($options: [OptionInput!]!) {
      a: optionAnalytics(model: BLACK_SCHOLES_MERTON, options: $options) { count prices }
      b: optionAnalytics(model: BLACK_SCHOLES_MERTON, options: $options) { deltas }
    }"""
    response = await execute(subgraph, stores, query, {"options": options})
    assert "errors" not in response
    assert response["data"]["a"]["count"] == count
    assert engine_calls == [2 * count]  # both lists of the request in one call


async def test_one_engine_call_prices_the_chains_of_every_token(
    stores: Stores, engine_calls: list[int]
) -> None:
    chain = """optionChain(valuationDate: "2022-11-15", expiries: ["2022-12-16", "2023-01-16"],
                           moneyness: [0.9, 1.0, 1.1], riskFreeRate: 0.04) { calls { prices } }"""
    response = await execute(
        subgraph,
        stores,
        f'{{ tokens {{ symbol {chain} }} btc: token(symbol: "BTC") {{ {chain} }} }}',
    )
    assert "errors" not in response
    assert [t["symbol"] for t in response["data"]["tokens"]] == ["BTC", "ETH", "USDT"]
    assert engine_calls == [4 * 12]  # 4 chains x 2 expiries x 3 strikes x (call, put)


async def test_implied_volatilities_round_trip_and_flag_impossible_prices(
    stores: Stores,
) -> None:
    priced = await execute(subgraph, stores, ANALYTICS, {
        "model": "BLACK_SCHOLES_MERTON",
        "options": [option(volatility=v, strike=k) for v, k in [(0.15, 90.0), (0.6, 130.0)]],
    })
    prices = priced["data"]["optionAnalytics"]["prices"]
    quotes = [
        {"right": "CALL", "price": p, "strike": k, "expiryYears": 1.0, "underlyingPrice": 100.0,
         "riskFreeRate": 0.05}
        for p, k in zip([*prices, 150.0], [90.0, 130.0, 100.0], strict=True)
    ]
    response = await execute(subgraph, stores, """query($q: [OptionQuoteInput!]!) {
      impliedVolatilities(model: BLACK_SCHOLES_MERTON, options: $q) { count volatilities converged }
    }""", {"q": quotes})
    result = response["data"]["impliedVolatilities"]
    assert result["volatilities"][:2] == pytest.approx([0.15, 0.6], rel=1e-10)
    assert result["converged"] == [True, True, False]
    assert result["volatilities"][2] is None  # above the spot: no volatility gives it


async def test_an_option_chain_on_eth_uses_its_real_close_and_realised_volatility(
    stores: Stores,
) -> None:
    response = await execute(subgraph, stores, """{ token(symbol: "ETH") {
      optionChain(valuationDate: "2022-11-15", expiries: ["2022-12-15", "2023-03-15"],
                  moneyness: [0.8, 1.0, 1.2], riskFreeRate: 0.04) {
        spot volatility realisedVolatility expiryYears strikes
        calls { count prices deltas } puts { prices } surface { x y callPrices volatilities }
      } } }""")
    chain = response["data"]["token"]["optionChain"]
    assert chain["spot"] == 1251.736206  # ETH's real close that day
    closes = await stores.require_analytics().query(
        "SELECT close FROM crypto.candles WHERE symbol = 'ETH' "
        "AND date BETWEEN '2022-10-16' AND '2022-11-15' ORDER BY date"
    )
    log_returns = np.diff(np.log([row["close"] for row in closes]))
    assert chain["volatility"] == pytest.approx(np.std(log_returns, ddof=1) * np.sqrt(365))
    assert chain["realisedVolatility"] is True
    assert chain["expiryYears"] == pytest.approx([30 / 365, 120 / 365])
    assert chain["strikes"] == pytest.approx([0.8 * 1251.736206, 1251.736206, 1.2 * 1251.736206])
    assert chain["calls"]["count"] == 6
    # Put-call parity on every point of the grid, and the surface is the same grid.
    for i, years in enumerate(chain["expiryYears"]):
        for j, strike in enumerate(chain["strikes"]):
            k = i * 3 + j
            parity = chain["spot"] - strike * np.exp(-0.04 * years)
            assert chain["calls"]["prices"][k] - chain["puts"]["prices"][k] == pytest.approx(
                parity, rel=1e-9, abs=1e-9)
    assert chain["surface"]["callPrices"] == chain["calls"]["prices"]
    assert chain["surface"]["x"] == pytest.approx([0.8, 1.0, 1.2])


@pytest.mark.parametrize(
    ("bad", "index", "field"),
    [
        ({"volatility": -0.2}, 1, "volatility"),
        ({"expiryYears": -1.0}, 1, "expiry_years"),
        ({"strike": 0.0}, 1, "strike"),
        ({"underlyingPrice": -5.0}, 1, "underlying_price"),
    ],
)
async def test_a_bad_option_is_bad_user_input_naming_it_and_other_fields_resolve(
    stores: Stores, engine_calls: list[int], bad: dict[str, float], index: int, field: str
) -> None:
    query = """query($options: [OptionInput!]!) {
      optionAnalytics(model: BLACK_SCHOLES_MERTON, options: $options) { prices }
      token(symbol: "BTC") { symbol }
    }"""
    response = await execute(subgraph, stores, query, {"options": [option(), option(**bad)]})
    (error,) = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (error["extensions"]["index"], error["extensions"]["field"]) == (index, field)
    assert f"options[{index}]" in error["message"]
    assert response["data"] == {"optionAnalytics": None, "token": {"symbol": "BTC"}}
    assert engine_calls == []


async def test_nan_and_infinity_are_refused_by_the_float_type_itself(stores: Stores) -> None:
    for value in (float("nan"), float("inf")):
        response = await execute(subgraph, stores, ANALYTICS, {
            "model": "BLACK_SCHOLES_MERTON", "options": [option(volatility=value)]})
        assert response["data"] is None
        assert [e["extensions"]["code"] for e in response["errors"]] == ["BAD_USER_INPUT"]
        assert "volatility" in response["errors"][0]["message"]


async def test_empty_lists_dividends_on_black_76_and_bad_chains_are_refused(
    stores: Stores,
) -> None:
    empty = await execute(subgraph, stores, ANALYTICS,
                          {"model": "BLACK_SCHOLES_MERTON", "options": []})
    dividend = await execute(subgraph, stores, ANALYTICS,
                             {"model": "BLACK_76", "options": [option(dividendYield=0.02)]})
    chains = await execute(subgraph, stores, """{ token(symbol: "ETH") {
      early: optionChain(valuationDate: "2022-11-15", expiries: ["2022-11-01"], moneyness: [1],
                         riskFreeRate: 0.04) { spot }
      noData: optionChain(valuationDate: "2023-06-01", expiries: ["2023-07-01"], moneyness: [1],
                          riskFreeRate: 0.04) { spot }
      both: optionChain(valuationDate: "2022-11-15", expiries: ["2022-12-15"], moneyness: [1],
                        strikes: [1000], riskFreeRate: 0.04) { spot }
      ok: optionChain(valuationDate: "2022-11-15", expiries: ["2022-12-15"], moneyness: [1],
                      riskFreeRate: 0.04, volatility: 0.8) { volatility realisedVolatility }
    } }""")
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert dividend["errors"][0]["extensions"]["field"] == "dividend_yield"
    assert sorted(e["path"][-1] for e in chains["errors"]) == ["both", "early", "noData"]
    assert {e["extensions"]["code"] for e in chains["errors"]} == {"BAD_USER_INPUT"}
    assert chains["errors"][0]["extensions"]["argument"] in {"expiries", "valuationDate",
                                                             "strikes"}
    assert chains["data"]["token"]["ok"] == {"volatility": 0.8, "realisedVolatility": False}


COLUMNS = """query($columns: OptionColumnsInput!) {
  optionAnalytics(model: BLACK_SCHOLES_MERTON, columns: $columns) { count prices deltas }
}"""


async def test_columns_price_the_same_options_as_a_list(
    stores: Stores, engine_calls: list[int]
) -> None:
    listed = [option(strike=k, right=r) for k, r in [(90.0, "CALL"), (110.0, "PUT")]]
    by_list = await execute(subgraph, stores, ANALYTICS,
                            {"model": "BLACK_SCHOLES_MERTON", "options": listed})
    by_columns = await execute(subgraph, stores, COLUMNS, {"columns": {
        "calls": [True, False], "strikes": [90, 110.0], "expiryYears": [1.0, 1.0],
        "underlyingPrices": [100.0, 100.0], "volatilities": [0.2, 0.2],
        "riskFreeRates": [0.05, 0.05],
    }})
    expected = by_list["data"]["optionAnalytics"]
    got = by_columns["data"]["optionAnalytics"]
    assert got["count"] == 2
    assert (got["prices"], got["deltas"]) == (expected["prices"], expected["deltas"])
    assert engine_calls == [2, 2]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"strikes": [100.0]}, "columns.strike has 1 entries"),
        ({"volatilities": [0.2, -0.1]}, "columns[1].volatility"),
        ({"strikes": [100.0, "x"]}, "FloatColumn"),
        ({"calls": [1, 0]}, "BooleanColumn"),
        ({"strikes": [True, 1.0]}, "FloatColumn"),
    ],
)
async def test_bad_columns_are_bad_user_input(
    stores: Stores, columns: dict[str, Any], message: str
) -> None:
    given = {"calls": [True, False], "strikes": [100.0, 100.0], "expiryYears": [1.0, 1.0],
             "underlyingPrices": [100.0, 100.0], "volatilities": [0.2, 0.2], **columns}
    response = await execute(subgraph, stores, COLUMNS, {"columns": given})
    (error,) = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
