"""Bond analytics and portfolio scenarios through GraphQL on the real Treasury curves."""

from __future__ import annotations

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

BOND_ENGINES = ("bond_prices", "bond_sensitivities", "bond_prices_from_curve", "bond_yields")
FIGURES = (
    "yieldPercent dirtyPrice cleanPrice accruedInterest modifiedDurationYears "
    "macaulayDurationYears convexity"
)
ANALYTICS = (
    "query($b: [FixedRateBondInput!]!, $d: Date) "
    f"{{ bondAnalytics(bonds: $b, curveDate: $d) {{ {FIGURES} }} }}"
)


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for name in BOND_ENGINES:
        monkeypatch.setattr(rates, name, counted(name, getattr(rates, name)))
    return calls


async def test_a_bond_at_its_coupon_yield_prices_at_par_with_textbook_risk(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        ANALYTICS,
        {"b": [{"couponPercent": 6, "maturityYears": 10, "yieldPercent": 6}]},
    )
    (bond,) = response["data"]["bondAnalytics"]
    assert bond["cleanPrice"] == pytest.approx(100, abs=1e-9)
    assert bond["accruedInterest"] == pytest.approx(0, abs=1e-12)
    # Fabozzi's 10-year 6% bond at 6%: modified duration 7.4387, convexity 68.77.
    assert bond["modifiedDurationYears"] == pytest.approx(7.43873743, abs=1e-8)
    assert bond["macaulayDurationYears"] == pytest.approx(7.43873743 * 1.03, abs=1e-8)
    assert bond["convexity"] == pytest.approx(68.774822, abs=1e-6)


@pytest.mark.parametrize("count", [1, 500])
async def test_bonds_on_the_curve_make_one_call_per_engine(
    stores: Stores, engine_calls: Counter[str], count: int
) -> None:
    # On 2024-12-31 the 10Y par yield was 4.58%: a 10Y 4.58% bond is worth par on that curve.
    par_bond = {"couponPercent": 4.58, "maturityYears": 10}
    others = [
        {"couponPercent": 1 + i % 7, "maturityYears": 0.5 + i % 29, "frequency": [1, 2, 4][i % 3]}
        for i in range(count - 1)
    ]
    given = [{"couponPercent": 5, "maturityYears": 3, "yieldPercent": 4}]
    response = await execute(
        subgraph, stores, ANALYTICS, {"b": [par_bond, *others, *given], "d": "2024-12-31"}
    )
    assert "errors" not in response, response.get("errors")
    figures = response["data"]["bondAnalytics"]
    assert len(figures) == count + 1
    assert figures[0]["cleanPrice"] == pytest.approx(100, abs=1e-8)
    assert figures[0]["yieldPercent"] == pytest.approx(4.58, abs=1e-8)
    assert figures[-1]["yieldPercent"] == pytest.approx(4.0, abs=1e-12)
    assert engine_calls == dict.fromkeys(BOND_ENGINES, 1)


@pytest.mark.parametrize(
    ("bonds", "date", "index", "field"),
    [
        (
            [
                {"couponPercent": 5, "maturityYears": 2, "yieldPercent": 4},
                {"couponPercent": 5, "maturityYears": -1},
            ],
            "2024-12-31",
            1,
            "maturityYears",
        ),
        ([{"couponPercent": 5, "maturityYears": 2, "frequency": 3}], "2024-12-31", 0, "frequency"),
        ([{"couponPercent": 5, "maturityYears": 2}], None, 0, "yieldPercent"),
        ([{"couponPercent": 5, "maturityYears": 2, "face": 0, "yieldPercent": 4}], None, 0, "face"),
        ([], "2024-12-31", None, None),
    ],
)
async def test_bad_bonds_are_named_by_index_and_field(
    stores: Stores,
    bonds: list[dict[str, Any]],
    date: str | None,
    index: int | None,
    field: str | None,
) -> None:
    response = await execute(subgraph, stores, ANALYTICS, {"b": bonds, "d": date})
    (error,) = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "bonds"
    assert error["extensions"].get("index") == index and error["extensions"].get("field") == field


async def test_a_date_before_the_first_curve_is_bad_input_and_other_fields_resolve(
    stores: Stores,
) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ bondAnalytics(bonds: [{couponPercent: 5, maturityYears: 2}], curveDate: "1985-01-01") '
        '{ cleanPrice } series(id: "DGS10") { id } }',
    )
    assert response["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "curveDate",
    }
    assert response["data"] == {"bondAnalytics": None, "series": {"id": "DGS10"}}


SCENARIOS = """
query($p: [BondPositionInput!]!, $c: [CurveShockInput!]) {
  bondPortfolioScenarios(positions: $p, curveDate: "2024-12-31", keyTenors: [2, 5, 10, 30],
                         customShocks: $c) {
    curveDate baseValue keyTenorsYears keyRateDurations effectiveDuration positionKeyRateDurations
    scenarios { name shocksBp value valueChange valueChangePercent positionValueChanges }
  }
}
"""


async def test_a_portfolio_under_the_basel_shocks_and_its_own(stores: Stores) -> None:
    positions = [
        {"couponPercent": 4.58, "maturityYears": 10, "quantity": 1000},
        {"couponPercent": 4.25, "maturityYears": 2, "quantity": -500},
    ]
    custom = [{"name": "parallel +200", "shocksBp": [200, 200, 200, 200]}]
    response = await execute(subgraph, stores, SCENARIOS, {"p": positions, "c": custom})
    assert "errors" not in response, response.get("errors")
    report = response["data"]["bondPortfolioScenarios"]
    assert report["curveDate"] == "2024-12-31"
    by_name = {s["name"]: s for s in report["scenarios"]}
    assert list(by_name)[:6] == [
        "parallel_up",
        "parallel_down",
        "steepener",
        "flattener",
        "short_up",
        "short_down",
    ]
    assert {"key_2y", "key_5y", "key_10y", "key_30y", "parallel +200"} <= set(by_name)
    # The caller's flat +200 bp is the standard parallel_up.
    assert by_name["parallel +200"]["valueChange"] == pytest.approx(
        by_name["parallel_up"]["valueChange"], rel=1e-12
    )
    # Net long duration: rates up, value down; and the positions add up to the portfolio.
    up = by_name["parallel_up"]
    assert up["valueChange"] < 0 < by_name["parallel_down"]["valueChange"]
    assert sum(up["positionValueChanges"]) == pytest.approx(up["valueChange"], rel=1e-12)
    assert up["valueChangePercent"] == pytest.approx(100 * up["valueChange"] / report["baseValue"])
    assert report["effectiveDuration"] == pytest.approx(sum(report["keyRateDurations"]))
    # The 10Y bond has almost all its key-rate risk at 10Y, none at 30Y.
    ten_year = report["positionKeyRateDurations"][0]
    assert ten_year[2] > 5 and ten_year[3] == pytest.approx(0, abs=1e-12)


async def test_a_custom_shock_of_the_wrong_length_is_named(stores: Stores) -> None:
    positions = [{"couponPercent": 4, "maturityYears": 5, "quantity": 1}]
    custom = [
        {"name": "ok", "shocksBp": [1, 2, 3, 4]},
        {"name": "short", "shocksBp": [50, 50]},
    ]
    response = await execute(subgraph, stores, SCENARIOS, {"p": positions, "c": custom})
    (error,) = response["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "customShocks",
        "index": 1,
        "field": "shocksBp",
    }
