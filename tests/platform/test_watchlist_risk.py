"""`Watchlist.risk` through the router on the demo data: platform @requires the items' close
histories, which the router fetches from crypto (tokens) and micro (stocks); platform never
reads their stores. Checked against NumPy on the same closes read through the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from engines import risk
from graph.in_process import router_for_subgraphs
from graph.router import Router
from nexus.auth.authenticator import Authenticator
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.platform import PlatformStore
from nexus.stores.vectors import VectorStore
from subgraphs.crypto import subgraph as crypto
from subgraphs.micro import subgraph as micro
from subgraphs.platform import subgraph
from tests.platform.conftest import GraphQL, create_watchlist, sign_up

ITEMS = [("TOKEN", "BTC"), ("TOKEN", "ETH"), ("STOCK", "GME"), ("SERIES", "DGS10"),
         ("STOCK", "AMC")]
RISK = """query($id: ID!, $weights: [Float!], $level: Float! = 0.99) {
  watchlist(id: $id) {
    name
    risk(from: "2021-01-01", to: "2021-12-31", weights: $weights, confidenceLevel: $level) {
      keys skippedKeys weights firstDate lastDate observations periodsPerYear
      volatility annualisedVolatility historicalValueAtRisk historicalExpectedShortfall
      normalValueAtRisk normalExpectedShortfall covariance correlation
      contributions { kind key weight volatility volatilityContribution share }
    }
  }
}"""
CLOSES = """query($symbol: String!) {
  token(symbol: $symbol) { candles(from: "2021-01-01", to: "2021-12-31") { date close } }
  stock(symbol: $symbol) { candles(from: "2021-01-01", to: "2021-12-31") { date close } }
}"""


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Portfolios per call of the (real) engine."""
    calls: list[int] = []
    real = risk.portfolio_risk

    def counted(**kwargs: Any) -> Any:
        calls.append(int(np.shape(kwargs["weights"])[0]))
        return real(**kwargs)

    monkeypatch.setattr(risk, "portfolio_risk", counted)
    return calls


@pytest.fixture
def router(
    store: PlatformStore, analytics: ChdbStore, micro_load: dict[str, int], tmp_path: Path,
    stores: Stores, vectors: VectorStore,
) -> Router:
    both = Stores(
        settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}),
        platform=store, analytics=analytics, vectors=vectors,
    )
    return router_for_subgraphs([subgraph, crypto, micro], both)


async def _expected_returns(router: Router) -> dict[str, dict[str, float]]:
    closes: dict[str, dict[str, float]] = {}
    for _, symbol in ITEMS[:3] + ITEMS[4:]:
        data = (await router.execute(CLOSES, {"symbol": symbol}))["data"]
        candles = (data["token"] or data["stock"])["candles"]
        closes[symbol] = {c["date"]: c["close"] for c in candles}
    return closes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_risk_of_tokens_and_stocks_together_matches_numpy(
    router: Router, graphql: GraphQL, authenticator: Authenticator, engine_calls: list[int]
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(graphql, owner, ITEMS)
    weights = [0.4, 0.3, 0.2, 0.1]

    response = await router.execute(
        RISK, {"id": watchlist, "weights": weights, "level": 0.95}, caller=owner.caller
    )

    assert "errors" not in response, response.get("errors")
    risk = response["data"]["watchlist"]["risk"]
    keys = ["BTC", "ETH", "GME", "AMC"]
    assert risk["keys"] == keys and risk["skippedKeys"] == ["DGS10"]
    # NumPy on the closes read through the graph, on the days all four have one.
    closes = await _expected_returns(router)
    days = sorted(set.intersection(*(set(closes[k]) for k in keys)))
    prices = np.array([[closes[k][d] for d in days] for k in keys])
    r = prices[:, 1:] / prices[:, :-1] - 1
    w = np.array(weights)
    cov = np.cov(r)
    vol = float(np.sqrt(w @ cov @ w))
    losses = -(w @ r)
    assert (risk["firstDate"], risk["lastDate"]) == (days[0], days[-1])
    assert risk["observations"] == len(days) - 1 > 200  # business days of 2021
    assert risk["periodsPerYear"] == 252
    assert risk["covariance"] == pytest.approx(cov.reshape(-1), rel=1e-9)
    assert risk["correlation"] == pytest.approx(np.corrcoef(r).reshape(-1), rel=1e-9)
    assert risk["volatility"] == pytest.approx(vol, rel=1e-9)
    assert risk["annualisedVolatility"] == pytest.approx(vol * np.sqrt(252), rel=1e-9)
    var = np.percentile(losses, 95)
    assert risk["historicalValueAtRisk"] == pytest.approx(var, rel=1e-9)
    assert risk["historicalExpectedShortfall"] == pytest.approx(losses[losses >= var].mean())
    mean_loss = -(w @ r.mean(axis=1))
    assert risk["normalValueAtRisk"] == pytest.approx(mean_loss + norm.ppf(0.95) * vol)
    contributions = risk["contributions"]
    assert [c["key"] for c in contributions] == keys
    assert [c["kind"] for c in contributions] == ["TOKEN", "TOKEN", "STOCK", "STOCK"]
    assert [c["volatilityContribution"] for c in contributions] == pytest.approx(
        w * (cov @ w) / vol, rel=1e-9
    )
    assert sum(c["share"] for c in contributions) == pytest.approx(1.0)
    assert engine_calls == [1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_watchlists_in_one_request_are_one_engine_call(
    router: Router, graphql: GraphQL, authenticator: Authenticator, engine_calls: list[int]
) -> None:
    owner = await sign_up(graphql, authenticator)
    first = await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("STOCK", "GME")])
    second = await create_watchlist(
        graphql, owner, [("TOKEN", "ETH"), ("STOCK", "AMC")], name="Other"
    )
    query = """{ watchlists { id risk(from: "2021-01-01", to: "2021-06-30") { keys } } }"""

    response = await router.execute(query, caller=owner.caller)

    assert "errors" not in response, response.get("errors")
    risks = {w["id"]: w["risk"]["keys"] for w in response["data"]["watchlists"]}
    assert risks == {first: ["BTC", "GME"], second: ["ETH", "AMC"]}
    assert engine_calls == [2]  # both portfolios in one call


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"weights": [0.5, 0.5]}, "weights"),  # three priced items
        ({"weights": [0.5, 0.5, 0.0]}, None),  # fine
        ({"weights": [1.0, -1.0, 0.0]}, "weights"),  # sums to zero
        ({"level": 1.5}, "confidenceLevel"),
    ],
)
async def test_bad_options_are_bad_user_input_and_the_rest_resolves(
    router: Router, graphql: GraphQL, authenticator: Authenticator,
    variables: dict[str, Any], argument: str | None, engine_calls: list[int],
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(
        graphql, owner, [("TOKEN", "BTC"), ("TOKEN", "ETH"), ("STOCK", "GME")]
    )

    response = await router.execute(RISK, {"id": watchlist, **variables}, caller=owner.caller)

    assert response["data"]["watchlist"]["name"] == "Main"
    if argument is None:
        assert "errors" not in response
        assert response["data"]["watchlist"]["risk"]["weights"] == [0.5, 0.5, 0.0]
        return
    assert response["data"]["watchlist"]["risk"] is None
    [error] = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["watchlist", "risk"]
    assert argument in error["message"] or error["extensions"].get("argument") == argument
    assert engine_calls == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_watchlist_without_tokens_or_stocks_is_bad_user_input(
    router: Router, graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(graphql, owner, [("SERIES", "DGS10")])

    response = await router.execute(RISK, {"id": watchlist}, caller=owner.caller)

    assert [e["extensions"]["code"] for e in response["errors"]] == ["BAD_USER_INPUT"]
    assert "no token or stock" in response["errors"][0]["message"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_another_organisations_watchlist_has_no_risk(
    router: Router, graphql: GraphQL, authenticator: Authenticator, engine_calls: list[int]
) -> None:
    owner = await sign_up(graphql, authenticator)
    other = await sign_up(graphql, authenticator, "eve@example.com")
    theirs = await create_watchlist(graphql, other, ITEMS)

    through_router = await router.execute(RISK, {"id": theirs}, caller=owner.caller)
    # Platform's own `_entities`, as if a representation carried B's id and histories.
    direct = await graphql(
        """query($r: [_Any!]!) { _entities(representations: $r) {
             ... on Watchlist { id risk { keys } } } }""",
        owner.caller,
        r=[{"__typename": "Watchlist", "id": theirs, "items": [
            {"kind": "TOKEN", "key": "BTC", "instrument": {"__typename": "Token",
             "closeHistory": {"dates": ["2021-01-01", "2021-01-02", "2021-01-03"],
                              "closes": [1.0, 2.0, 3.0]}}}]}],
    )

    assert through_router["data"] == {"watchlist": None}
    assert direct.errors is None
    assert direct.data == {"_entities": [None]}
    assert engine_calls == []
