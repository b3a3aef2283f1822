"""Stock risk and charts, and the co-mention network, through the micro subgraph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.micro import network
from tests.micro.conftest import GraphQL


async def test_gme_risk_over_the_squeeze_against_the_nasdaq(
    graphql: GraphQL, analytics: ChdbStore
) -> None:
    result = await graphql("""{ stock(symbol: "GME") {
      risk(from: "2021-01-01", to: "2021-03-31", window: 10) {
        dates returns rollingVolatility maxDrawdown maxDrawdownPeak maxDrawdownTrough
        historical { valueAtRisk } capm { benchmark beta observations }
      } } }""")
    assert result.errors is None
    risk = result.data["stock"]["risk"]
    rows = await analytics.query(
        "SELECT close FROM micro.candles WHERE symbol = 'GME' "
        "AND date BETWEEN '2021-01-01' AND '2021-03-31' ORDER BY date"
    )
    closes = np.array([row["close"] for row in rows])
    returns = closes[1:] / closes[:-1] - 1
    assert risk["returns"] == pytest.approx(returns.tolist())
    assert risk["rollingVolatility"][0] == pytest.approx(
        np.std(returns[:10], ddof=1) * np.sqrt(252)
    )
    assert risk["maxDrawdownPeak"] == "2021-01-27"  # the squeeze's top close
    assert risk["maxDrawdown"] > 0.8
    assert risk["historical"]["valueAtRisk"] > 0.3
    assert risk["capm"]["benchmark"] == "NASDAQ"
    assert risk["capm"]["observations"] == len(returns)  # both trade on the same days


async def test_stock_charts_and_bad_input(graphql: GraphQL) -> None:
    result = await graphql("""{ stock(symbol: "AMC") {
      closeChart(points: 20) { dates sourcePoints }
      bars(interval: MONTH, from: "2021-01-01", to: "2021-06-30") { starts days highs }
      noData: bars(interval: WEEK, from: "2025-01-01") { days }
      risk(benchmark: "SPX") { window }
    } }""")
    stock = result.data["stock"]
    assert len(stock["closeChart"]["dates"]) == 20 and stock["closeChart"]["sourcePoints"] == 777
    assert stock["bars"]["starts"][0] == "2021-01-01" and len(stock["bars"]["starts"]) == 6
    assert sum(stock["bars"]["days"]) > 100
    codes = {e.path[-1]: e.extensions["code"] for e in result.errors}
    assert codes == {"noData": "BAD_USER_INPUT", "risk": "BAD_USER_INPUT"}


async def test_cashtag_network_links_tags_named_together(
    graphql: GraphQL, analytics: ChdbStore
) -> None:
    result = await graphql("""{ mentionNetwork(kind: CASHTAGS, from: "2021-01-01",
        to: "2021-02-28") { kind nodes { id kind posts x y } edges { source target weight } } }""")
    assert result.errors is None
    graph = result.data["mentionNetwork"]
    counts = await analytics.query(
        "SELECT symbol, count() AS n FROM micro.mentions FINAL "
        "WHERE toDate(created_at) BETWEEN '2021-01-01' AND '2021-02-28' GROUP BY symbol"
    )
    assert {n["id"]: n["posts"] for n in graph["nodes"]} == {r["symbol"]: r["n"] for r in counts}
    pair = await analytics.query(
        "SELECT count() AS n FROM micro.posts FINAL WHERE has(cashtags, 'GME') "
        "AND has(cashtags, 'AMC') AND toDate(created_at) BETWEEN '2021-01-01' AND '2021-02-28'"
    )
    weights = {(e["source"], e["target"]): e["weight"] for e in graph["edges"]}
    assert weights[("AMC", "GME")] == pair[0]["n"] > 0
    xy = np.array([[n["x"], n["y"]] for n in graph["nodes"]])
    assert np.all(np.isfinite(xy)) and np.abs(xy).max() <= 1.0 + 1e-9


async def test_influencer_network_and_one_layout_call_for_both(
    graphql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, ...]] = []
    real = network.force_directed_layout

    def counted(**kwargs: Any) -> Any:
        calls.append(np.shape(kwargs["weights"]))
        return real(**kwargs)

    monkeypatch.setattr(network, "force_directed_layout", counted)
    result = await graphql("""{
      tags: mentionNetwork(kind: CASHTAGS, from: "2021-01-25", to: "2021-01-29") { nodes { id } }
      people: mentionNetwork(kind: INFLUENCERS, from: "2021-01-25", to: "2021-01-29",
                             minFollowers: 100000, maxNodes: 12) {
        nodes { id kind posts followers } edges { source target weight } }
      empty: mentionNetwork(kind: CASHTAGS, from: "2030-01-01", to: "2030-01-31") { kind }
      reversed: mentionNetwork(kind: CASHTAGS, from: "2021-02-01", to: "2021-01-01") { kind }
    }""")
    people = result.data["people"]
    assert len(people["nodes"]) <= 12
    authors = [n for n in people["nodes"] if n["kind"] == "AUTHOR"]
    assert authors and all(n["followers"] >= 100000 for n in authors)
    kinds = {n["id"]: n["kind"] for n in people["nodes"]}
    assert all(kinds[e["source"]] == "AUTHOR" and kinds[e["target"]] == "CASHTAG"
               for e in people["edges"])
    assert len(calls) == 1 and calls[0][0] == 2  # both networks in one layout call
    assert {e.path[0]: e.extensions["code"] for e in result.errors} == {
        "empty": "BAD_USER_INPUT", "reversed": "BAD_USER_INPUT"}


async def test_the_router_serves_every_analytics_field_in_one_request(
    micro_stores: Stores,
) -> None:
    from graph.in_process import router_for_subgraphs
    from subgraphs.crypto import subgraph as crypto
    from subgraphs.micro import subgraph as micro

    router = router_for_subgraphs([crypto, micro], micro_stores)
    query = """{
      token(symbol: "ETH") { risk(from: "2021-01-01", to: "2021-12-31") { capm { beta } }
        bars(interval: MONTH, from: "2021-01-01", to: "2021-02-28") { closes } }
      stock(symbol: "GME") { risk(from: "2021-01-01", to: "2021-03-31") { capm { beta } } }
      optionAnalytics(model: BLACK_SCHOLES_MERTON, columns: {calls: [true], strikes: [100],
        expiryYears: [1], underlyingPrices: [100], volatilities: [0.2], riskFreeRates: [0.05]})
        { prices }
      pool(id: "uniswap-v2-eth-usdt") { synthetic }
      mentionNetwork(kind: CASHTAGS, from: "2021-01-25", to: "2021-01-29") { nodes { id } }
    }"""
    # The first series of a length compiles the risk engines (seconds on a busy 2-core
    # machine, beyond the router's 30 s subgraph timeout): compile them first, directly.
    for part, warm in [
        (crypto, '{ token(symbol: "ETH") { risk(from: "2021-01-01", to: "2021-12-31") '
                 "{ window } } }"),
        (micro, '{ stock(symbol: "GME") { risk(from: "2021-01-01", to: "2021-03-31") '
                "{ window } } }"),
    ]:
        warmed = await part.schema.execute(warm, context_value=part.make_context(micro_stores))
        assert warmed.errors is None
    response = await router.execute(query)
    assert "errors" not in response, response.get("errors")
    data = response["data"]
    assert data["token"]["risk"]["capm"]["beta"] > 0 and data["stock"]["risk"]["capm"]["beta"]
    assert data["optionAnalytics"]["prices"] == [pytest.approx(10.450583572185565)]
    assert data["pool"] == {"synthetic": True} and data["mentionNetwork"]["nodes"]
