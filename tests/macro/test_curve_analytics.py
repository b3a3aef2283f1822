"""Yield-curve fits, the bootstrap and the surface through GraphQL on the real Treasury curves."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from engines import rates
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.macro import subgraph
from tests.support.graphql import execute

CURVE_ENGINES = (
    "bootstrap_par_curve",
    "forward_rates",
    "fit_nelson_siegel_svensson",
    "fit_nelson_siegel",
    "nelson_siegel_svensson_yields",
    "nelson_siegel_svensson_forwards",
)


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each rates engine was called during the test."""
    calls: Counter[str] = Counter()

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for name in CURVE_ENGINES:
        monkeypatch.setattr(rates, name, counted(name, getattr(rates, name)))
    return calls


FIT_QUERY = """
query($from: Date!, $to: Date!) {
  yieldCurves(from: $from, to: $to) {
    date
    points { months rate }
    fit(model: SVENSSON) {
      model rmseBp observations
      parameters { beta0Percent beta1Percent tau1Years tau2Years }
      zeroRates(tenors: [0.5, 2, 10, 30])
      forwardRates(tenors: [0.5, 2, 10, 30])
      discountFactors(tenors: [0.5, 2, 10, 30])
    }
    ns: fit(model: NELSON_SIEGEL) { rmseBp parameters { beta3Percent tau2Years } zeroRates }
    bootstrapped { maturitiesYears zeroRates discountFactors forwardRates }
  }
}
"""


@pytest.mark.parametrize(
    ("start", "end", "dates"), [("2024-12-31", "2024-12-31", 1), ("2024-01-01", "2024-12-31", 250)]
)
async def test_a_year_of_curve_fits_makes_one_call_per_engine(
    stores: Stores, engine_calls: Counter[str], start: str, end: str, dates: int
) -> None:
    response = await execute(subgraph, stores, FIT_QUERY, {"from": start, "to": end})
    assert "errors" not in response, response.get("errors")
    curves = response["data"]["yieldCurves"]
    assert len(curves) == dates
    assert curves[-1]["date"] == "2024-12-31"
    # One call per engine function whatever the number of dates.
    assert engine_calls == dict.fromkeys(CURVE_ENGINES, 1)
    for curve in curves:
        fit = curve["fit"]
        assert fit["model"] == "SVENSSON" and fit["observations"] == len(curve["points"])
        assert 0 <= fit["rmseBp"] < 25  # a Svensson curve through 13 Treasury tenors
        assert curve["ns"]["parameters"] == {"beta3Percent": None, "tau2Years": None}
        assert curve["ns"]["rmseBp"] >= fit["rmseBp"] - 1e-6  # nested model: never better
        par = {p["months"] / 12: p["rate"] for p in curve["points"]}
        # The fitted 10Y zero rate is within 30 bp of the published 10Y par yield.
        assert abs(fit["zeroRates"][2] - par[10.0]) < 0.3
        for rate, factor, years in zip(
            fit["zeroRates"], fit["discountFactors"], [0.5, 2, 10, 30], strict=True
        ):
            assert factor == pytest.approx(math.exp(-rate / 100 * years), rel=1e-12)
        boot = curve["bootstrapped"]
        assert boot["maturitiesYears"][-1] == 30.0
        assert len(boot["zeroRates"]) == len(boot["forwardRates"]) == len(boot["maturitiesYears"])
        # At 6M the bootstrap is the par yield, semiannual, as a continuous rate.
        six_months = boot["maturitiesYears"].index(0.5)
        assert boot["zeroRates"][six_months] == pytest.approx(
            200 * math.log1p(par[0.5] / 200), abs=1e-9
        )


async def test_curves_without_the_30y_stop_at_their_last_tenor(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ yieldCurve(date: "2004-06-01") { points { months } bootstrapped { maturitiesYears } '
        "fit { observations } } }",
    )
    curve = response["data"]["yieldCurve"]
    assert max(p["months"] for p in curve["points"]) == 240
    assert curve["bootstrapped"]["maturitiesYears"][-1] == 20.0
    assert curve["fit"]["observations"] == len(curve["points"])


async def test_the_surface_is_packed_dates_by_tenors(
    stores: Stores, engine_calls: Counter[str]
) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ yieldCurveSurface(from: "2024-11-01", to: "2024-12-31", tenors: [1, 5, 10]) '
        '{ dates tenorsYears zeroRates rmseBp } yieldCurves(from: "2024-11-01", '
        'to: "2024-12-31") { date } }',
    )
    surface = response["data"]["yieldCurveSurface"]
    published = [curve["date"] for curve in response["data"]["yieldCurves"]]
    assert surface["dates"] == published and len(published) == 40  # Nov-Dec 2024 business days
    assert surface["tenorsYears"] == [1.0, 5.0, 10.0]
    assert len(surface["rmseBp"]) == 40 and len(surface["zeroRates"]) == 40 * 3
    fits = await execute(
        subgraph,
        stores,
        '{ yieldCurve(date: "2024-12-31") { fit { zeroRates(tenors: [1, 5, 10]) } } }',
    )
    assert surface["zeroRates"][-3:] == pytest.approx(
        fits["data"]["yieldCurve"]["fit"]["zeroRates"], abs=1e-9
    )
    assert engine_calls["fit_nelson_siegel_svensson"] == 2  # one per request


@pytest.mark.parametrize(
    ("query", "argument", "index"),
    [
        ('{ yieldCurve(date: "2024-12-31") { fit { zeroRates(tenors: [1, -2]) } } }', "tenors", 1),
        ('{ yieldCurve(date: "2024-12-31") { fit { forwardRates(tenors: []) } } }', "tenors", None),
        (
            '{ yieldCurve(date: "2024-12-31") { fit { discountFactors(tenors: [1, 1e300]) } } }',
            "tenors",
            1,
        ),
        ('{ yieldCurves(from: "2024-02-01", to: "2024-01-01") { date } }', "from", None),
        ('{ yieldCurves(from: "2000-01-01", to: "2024-01-01") { date } }', "to", None),
        ('{ yieldCurveSurface(from: "1980-01-01", to: "1980-12-31") { dates } }', "from", None),
    ],
)
async def test_bad_curve_arguments_name_the_offending_item(
    stores: Stores, query: str, argument: str, index: int | None
) -> None:
    response = await execute(subgraph, stores, query)
    (error,) = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert error["extensions"].get("index") == index


async def test_a_bad_field_leaves_the_others_resolved(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ yieldCurve(date: "2024-12-31") { date fit { rmseBp bad: zeroRates(tenors: [-1]) '
        "good: zeroRates(tenors: [10]) } } }",
    )
    assert response["errors"][0]["path"] == ["yieldCurve", "fit", "bad"]
    fit = response["data"]["yieldCurve"]["fit"]
    assert fit["bad"] is None and len(fit["good"]) == 1 and fit["rmseBp"] > 0


async def test_yield_curves_are_entities_other_subgraphs_can_reference(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        "query($r: [_Any!]!) { _entities(representations: $r) { "
        "... on YieldCurve { date fit { observations } } } }",
        {"r": [{"__typename": "YieldCurve", "date": d} for d in ("2024-12-31", "2024-01-06")]},
    )
    assert "errors" not in response, response.get("errors")
    late, weekend = response["data"]["_entities"]
    assert late == {"date": "2024-12-31", "fit": {"observations": 13}}
    assert weekend["date"] == "2024-01-05"  # the last curve on or before the day
