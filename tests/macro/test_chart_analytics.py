"""Series charts through GraphQL on the real FRED data: LTTB lines and calendar bars."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from engines import charts
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.macro import subgraph
from tests.macro.test_macro_subgraph import fred_values
from tests.support.graphql import execute


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

    for name in ("lttb_downsample", "ohlc_bars"):
        monkeypatch.setattr(charts, name, counted(name, getattr(charts, name)))
    return calls


CHART = """
{
  a: series(id: "DGS10") { ...chart }
  b: series(id: "DGS2") { ...chart }
}
fragment chart on Series {
  downsampled(points: 50, from: "2024-01-01", to: "2024-12-31") { dates values }
  monthly: bars(interval: MONTH, from: "2024-01-01", to: "2024-12-31") {
    periodStarts opens highs lows closes observations
  }
  weekly: bars(interval: WEEK, from: "2024-01-01", to: "2024-12-31") { periodStarts observations }
}
"""


async def test_series_charts_keep_the_real_values_in_one_call_per_engine(
    stores: Stores, engine_calls: Counter[str]
) -> None:
    response = await execute(subgraph, stores, CHART)
    assert "errors" not in response, response.get("errors")
    # Two series, three charts each: one LTTB call, one OHLC call per interval.
    assert engine_calls == {"lttb_downsample": 1, "ohlc_bars": 2}
    for alias, series_id in (("a", "DGS10"), ("b", "DGS2")):
        fred = fred_values(series_id, 2024)
        chart = response["data"][alias]
        line = chart["downsampled"]
        assert len(line["dates"]) == len(line["values"]) == 50
        published = {row["date"]: row["value"] for row in fred}
        assert line["dates"][0] == fred[0]["date"] and line["dates"][-1] == fred[-1]["date"]
        assert all(published[d] == v for d, v in zip(line["dates"], line["values"], strict=True))
        months = chart["monthly"]
        assert months["periodStarts"] == [f"2024-{m:02d}-01" for m in range(1, 13)]
        for i, month in enumerate(range(1, 13)):
            prefix = f"2024-{month:02d}"
            values = [float(str(r["value"])) for r in fred if str(r["date"]).startswith(prefix)]
            assert months["opens"][i] == values[0] and months["closes"][i] == values[-1]
            assert months["highs"][i] == max(values) and months["lows"][i] == min(values)
            assert months["observations"][i] == len(values)
        weeks = chart["weekly"]
        assert sum(weeks["observations"]) == len(fred)
        assert all(dt.date.fromisoformat(d).weekday() == 0 for d in weeks["periodStarts"])


@pytest.mark.parametrize(
    "query",
    [
        '{ series(id: "DGS10") { downsampled(points: 2) { dates } } }',
        '{ series(id: "DGS10") { bars(interval: WEEK, from: "2024-02-01", to: "2024-01-01") '
        "{ opens } } }",
    ],
)
async def test_bad_chart_arguments_are_bad_user_input(stores: Stores, query: str) -> None:
    response = await execute(subgraph, stores, query)
    (error,) = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
