"""Token risk and chart fields on the real demo closes, through the crypto subgraph."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import subgraph
from tests.support.graphql import execute

RISK = """{ token(symbol: "ETH") { risk(from: "2021-01-01", to: "2021-12-31", window: 30,
  confidenceLevel: 0.95, monteCarloSamples: 50000) {
    dates returns window rollingVolatility drawdowns maxDrawdown maxDrawdownPeak
    maxDrawdownTrough historical { confidenceLevel valueAtRisk expectedShortfall }
    monteCarlo { valueAtRisk expectedShortfall valueAtRiskStandardError }
    capm { benchmark beta betaStandardError alpha alphaStandardError rSquared observations }
} } }"""


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


async def closes(stores: Stores, table: str, symbol: str, start: str, end: str) -> dict:
    rows = await stores.require_analytics().query(
        f"SELECT date, close FROM crypto.{table} WHERE symbol = {{s:String}} "
        "AND date BETWEEN {a:Date} AND {b:Date} ORDER BY date",
        {"s": symbol, "a": start, "b": end},
    )
    return {row["date"]: row["close"] for row in rows}


async def test_eth_risk_in_2021_matches_numpy_on_the_real_closes(stores: Stores) -> None:
    risk = (await execute(subgraph, stores, RISK))["data"]["token"]["risk"]
    eth = await closes(stores, "candles", "ETH", "2021-01-01", "2021-12-31")
    prices = np.array(list(eth.values()))
    returns = prices[1:] / prices[:-1] - 1
    assert len(risk["dates"]) == 364 and risk["dates"][0] == "2021-01-02"
    assert risk["returns"] == pytest.approx(returns.tolist(), rel=1e-12)
    window = returns[-30:]
    assert risk["rollingVolatility"][-1] == pytest.approx(np.std(window, ddof=1) * np.sqrt(365))
    assert len(risk["rollingVolatility"]) == 364 - 30 + 1
    running_peak = np.maximum.accumulate(prices)
    assert risk["drawdowns"] == pytest.approx((prices / running_peak - 1).tolist())
    assert risk["maxDrawdown"] == pytest.approx(-(prices / running_peak - 1).min())
    assert (risk["maxDrawdownPeak"], risk["maxDrawdownTrough"]) == ("2021-05-11", "2021-07-20")
    var = np.percentile(-returns, 95)
    assert risk["historical"]["valueAtRisk"] == pytest.approx(var)
    shortfall = (-returns)[-returns >= var].mean()
    assert risk["historical"]["expectedShortfall"] == pytest.approx(shortfall)
    normal_var = -returns.mean() + 1.6448536 * returns.std(ddof=1)
    mc = risk["monteCarlo"]
    assert mc["valueAtRisk"] == pytest.approx(normal_var, abs=4 * mc["valueAtRiskStandardError"])


async def test_capm_against_the_nasdaq_uses_the_days_both_traded(stores: Stores) -> None:
    capm = (await execute(subgraph, stores, RISK))["data"]["token"]["risk"]["capm"]
    eth = await closes(stores, "candles", "ETH", "2021-01-01", "2021-12-31")
    nasdaq = await closes(stores, "benchmarks", "NASDAQ", "2021-01-01", "2021-12-31")
    days = [day for day in nasdaq if day in eth]
    y = np.diff([eth[d] for d in days]) / np.array([eth[d] for d in days[:-1]])
    x = np.diff([nasdaq[d] for d in days]) / np.array([nasdaq[d] for d in days[:-1]])
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (intercept + slope * x)
    se = np.sqrt(residuals @ residuals / (len(x) - 2) / ((x - x.mean()) @ (x - x.mean())))
    assert capm["benchmark"] == "NASDAQ" and capm["observations"] == len(x)
    assert capm["beta"] == pytest.approx(slope) and capm["alpha"] == pytest.approx(intercept)
    assert capm["betaStandardError"] == pytest.approx(se)
    assert 0 < capm["rSquared"] < 1


async def test_a_token_is_a_benchmark_too_and_bad_risk_input_is_refused(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ token(symbol: "ETH") {
      vsBtc: risk(from: "2021-01-01", to: "2021-12-31", benchmark: "btc") {
        capm { benchmark beta observations } }
      unknown: risk(benchmark: "DOGE") { window }
      level: risk(confidenceLevel: 1.5) { window }
      empty: risk(from: "2023-01-01", to: "2023-12-31") { window }
      short: risk(from: "2021-01-01", to: "2021-01-10", window: 30) { window }
    } }""")
    token = response["data"]["token"]
    assert token["vsBtc"]["capm"]["benchmark"] == "BTC"
    assert token["vsBtc"]["capm"]["observations"] == 364  # crypto trades every day
    assert token["vsBtc"]["capm"]["beta"] > 0.8
    errors = {e["path"][-1]: e["extensions"] for e in response["errors"]}
    assert set(errors) == {"unknown", "level", "empty", "short"}
    assert {e["code"] for e in errors.values()} == {"BAD_USER_INPUT"}
    assert errors["unknown"]["argument"] == "benchmark"
    assert errors["level"]["argument"] == "confidenceLevel"


async def test_close_chart_keeps_the_ends_and_the_extremes(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ token(symbol: "BTC") {
      closeChart(points: 50, from: "2020-01-01", to: "2021-12-31") { dates closes sourcePoints }
    } }""")
    chart = response["data"]["token"]["closeChart"]
    btc = await closes(stores, "candles", "BTC", "2020-01-01", "2021-12-31")
    assert chart["sourcePoints"] == len(btc) == 731
    assert len(chart["dates"]) == 50
    assert (chart["dates"][0], chart["dates"][-1]) == ("2020-01-01", "2021-12-31")
    kept = zip(chart["dates"], chart["closes"], strict=True)
    assert all(btc[dt.date.fromisoformat(day)] == value for day, value in kept)
    assert max(chart["closes"]) == max(btc.values())  # the all-time high survives


async def test_weekly_and_monthly_bars_resample_the_daily_candles(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ token(symbol: "BTC") {
      week: bars(interval: WEEK, from: "2021-01-04", to: "2021-01-17") {
        starts opens highs lows closes volumes days }
      month: bars(interval: MONTH, from: "2021-01-01", to: "2021-03-31") {
        starts opens closes days }
    } }""")
    rows = await stores.require_analytics().query(
        "SELECT date, open, high, low, close, volume FROM crypto.candles WHERE symbol = 'BTC' "
        "AND date BETWEEN '2021-01-04' AND '2021-01-10' ORDER BY date"
    )
    week = response["data"]["token"]["week"]
    assert week["starts"] == ["2021-01-04", "2021-01-11"] and week["days"] == [7, 7]
    assert week["opens"][0] == rows[0]["open"] and week["closes"][0] == rows[-1]["close"]
    assert week["highs"][0] == max(r["high"] for r in rows)
    assert week["lows"][0] == min(r["low"] for r in rows)
    assert week["volumes"][0] == pytest.approx(sum(r["volume"] for r in rows))
    month = response["data"]["token"]["month"]
    assert month["starts"] == ["2021-01-01", "2021-02-01", "2021-03-01"]
    assert month["days"] == [31, 28, 31]


async def test_bad_chart_input_is_refused(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ token(symbol: "BTC") {
      few: closeChart(points: 2) { sourcePoints }
      none: bars(interval: WEEK, from: "2030-01-01", to: "2030-02-01") { days }
      ok: bars(interval: MONTH, from: "2022-10-01") { starts }
    } }""")
    assert sorted(e["path"][-1] for e in response["errors"]) == ["few", "none"]
    assert response["data"]["token"]["ok"]["starts"] == ["2022-10-01", "2022-11-01"]
