"""A token's option chain discounted with macro's Treasury curve, through the router.

Crypto never reads macro's store: the chain `@requires` its `treasuryCurve`'s bootstrapped
zero rates, which the router fetches from macro and hands back to crypto.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graph.in_process import router_for_subgraphs
from graph.router import Router
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import option_pricing
from subgraphs.crypto import subgraph as crypto
from subgraphs.macro import subgraph as macro

CHAIN = """query($day: Date!, $expiries: [Date!]!, $rate: Float) {
  token(symbol: "ETH") {
    name
    optionChain(valuationDate: $day, expiries: $expiries, moneyness: [0.9, 1.0, 1.1],
                riskFreeRate: $rate) {
      spot expiryYears strikes riskFreeRates discountFactors
      treasuryCurve { date }
      calls { prices } puts { prices }
    }
  }
}"""
EXPIRIES = ["2022-11-22", "2022-12-29", "2023-05-15", "2024-11-15"]


@pytest.fixture
def router(analytics: ChdbStore) -> Router:
    stores = Stores(settings=Settings.from_env({}), analytics=analytics)
    return router_for_subgraphs([crypto, macro], stores)


async def chain(router: Router, day: str, rate: float | None = None) -> dict[str, Any]:
    return await router.execute(CHAIN, {"day": day, "expiries": EXPIRIES, "rate": rate})


async def test_the_chain_is_discounted_at_the_treasury_zero_rate_of_each_expiry(
    router: Router,
) -> None:
    response = await chain(router, "2022-11-15")
    assert "errors" not in response, response.get("errors")
    got = response["data"]["token"]["optionChain"]
    curve = await router.execute("""{ yieldCurve(date: "2022-11-15") {
      bootstrapped { maturitiesYears zeroRates } } }""")
    nodes = curve["data"]["yieldCurve"]["bootstrapped"]
    years = np.array(got["expiryYears"])
    # Linear in maturity between macro's nodes, flat before the first (1M) node.
    rates = np.interp(years, nodes["maturitiesYears"], nodes["zeroRates"]) / 100
    assert got["treasuryCurve"] == {"date": "2022-11-15"}
    assert got["riskFreeRates"] == pytest.approx(rates, rel=1e-12)
    assert got["discountFactors"] == pytest.approx(np.exp(-rates * years), rel=1e-12)
    assert 0.03 < rates.min() < rates.max() < 0.06  # the late-2022 curve: 4-5%
    assert got["riskFreeRates"][0] == pytest.approx(nodes["zeroRates"][0] / 100)  # flat < 1M
    assert len(set(got["riskFreeRates"])) == len(EXPIRIES)  # one rate per expiry
    # Put-call parity on every point holds with each expiry's own discount factor.
    for i, factor in enumerate(got["discountFactors"]):
        for j, strike in enumerate(got["strikes"]):
            k = i * 3 + j
            parity = got["spot"] - strike * factor
            assert got["calls"]["prices"][k] - got["puts"]["prices"][k] == pytest.approx(
                parity, rel=1e-9, abs=1e-9)


async def test_a_weekend_uses_the_last_curve_and_a_given_rate_overrides_it(
    router: Router,
) -> None:
    weekend = await chain(router, "2022-11-13")  # a Sunday: Friday's curve
    friday = await router.execute("""{ yieldCurve(date: "2022-11-11") {
      bootstrapped { maturitiesYears zeroRates } } }""")
    nodes = friday["data"]["yieldCurve"]["bootstrapped"]
    got = weekend["data"]["token"]["optionChain"]
    rates = np.interp(got["expiryYears"], nodes["maturitiesYears"], nodes["zeroRates"]) / 100
    assert got["riskFreeRates"] == pytest.approx(rates, rel=1e-12)
    fixed = (await chain(router, "2022-11-15", rate=0.02))["data"]["token"]["optionChain"]
    assert fixed["riskFreeRates"] == [0.02] * len(EXPIRIES)
    assert fixed["discountFactors"] == pytest.approx(np.exp(-0.02 * np.array(
        fixed["expiryYears"])), rel=1e-12)


async def test_a_date_without_a_treasury_curve_fails_the_chain_only(
    router: Router, analytics: ChdbStore
) -> None:
    # The demo's curves (from 1990) cover every token day, so no real chain date lacks one:
    # macro answers null for a day before its first curve ...
    early = await router.execute('{ yieldCurve(date: "1989-12-29") { date } }')
    assert early == {"data": {"yieldCurve": None}}
    # ... and crypto, handed that missing curve by the router, fails the priced fields only.
    stores = Stores(settings=Settings.from_env({}), analytics=analytics)
    request = await router.execute(
        CHAIN.replace("treasuryCurve { date }", "id"),
        {"day": "2022-11-15", "expiries": EXPIRIES, "rate": None},
    )
    key = request["data"]["token"]["optionChain"]["id"]
    result = await crypto.schema.execute(
        """query($reps: [_Any!]!) { _entities(representations: $reps) {
          ... on OptionChain { spot strikes discountFactors calls { prices } } } }""",
        variable_values={"reps": [{"__typename": "OptionChain", "id": key,
                                   "treasuryCurve": None}]},
        context_value=crypto.make_context(stores),
    )
    assert result.data == {"_entities": [None]}
    assert result.errors and {(e.extensions or {}).get("code") for e in result.errors} == {
        "NOT_FOUND"}
    assert "No Treasury curve on or before 2022-11-15" in result.errors[0].message


async def test_every_chain_of_a_request_is_priced_in_one_engine_call(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = option_pricing.option_greeks

    def counted(**kwargs: Any) -> Any:
        calls.append(int(np.size(kwargs["strikes"])))
        return real(**kwargs)

    monkeypatch.setattr(option_pricing, "option_greeks", counted)
    chain = """optionChain(valuationDate: "2022-11-15", expiries: ["2022-12-29", "2023-05-15"],
                           moneyness: [0.9, 1.0, 1.1]) { discountFactors calls { prices } }"""
    response = await router.execute(f"{{ tokens {{ symbol {chain} }} }}")
    assert "errors" not in response, response.get("errors")
    tokens = response["data"]["tokens"]
    assert [t["symbol"] for t in tokens] == ["BTC", "ETH", "USDT"]
    # Every token's chain is discounted with the same curve of the day ...
    assert len({tuple(t["optionChain"]["discountFactors"]) for t in tokens}) == 1
    # ... and all are priced in one Greeks call (one crypto fetch for the list).
    assert calls == [3 * 12]  # 3 chains x 2 expiries x 3 strikes x (call, put)
