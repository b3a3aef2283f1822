"""The REST endpoints over the assembled graph: the same data as GraphQL for the same question,
problems for bad input and unknown things, paging by cursor and conditional GETs."""

from __future__ import annotations

from typing import Any

import httpx

from graph.rest.mapping import load_mapping

PROBLEM = "application/problem+json"


def operation_text(name: str) -> str:
    return next(e.operation.text for e in load_mapping().endpoints if e.operation.name == name)


async def graphql(client: httpx.AsyncClient, name: str, **variables: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": operation_text(name), "variables": variables}
    )
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def test_interest_rate_is_the_graphs_fed_funds_series(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/macro/interest-rate", params={"from": "2024-01-01", "to": "2024-06-30"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "FEDFUNDS"
    assert [o["date"] for o in body["observations"]][:2] == ["2024-01-01", "2024-02-01"]
    same = await graphql(client, "InterestRate", **{"from": "2024-01-01", "to": "2024-06-30"})
    assert body == same["series"]


async def test_rest_and_graphql_agree_on_tokens_stocks_curve_and_posts(
    client: httpx.AsyncClient,
) -> None:
    cases: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
        ("/api/v1/tokens/BTC", "TokenBySymbol", {"symbol": "BTC"}, ("token",)),
        ("/api/v1/stocks", "StockList", {}, ("stocks",)),
        (
            "/api/v1/macro/yield-curve/2024-12-31",
            "YieldCurveOn",
            {"date": "2024-12-31"},
            ("yieldCurve",),
        ),
        (
            "/api/v1/macro/yield-curve/2024-12-31/fit?model=NELSON_SIEGEL&tenors=2&tenors=10",
            "YieldCurveFit",
            {"date": "2024-12-31", "model": "NELSON_SIEGEL", "tenors": [2, 10]},
            ("yieldCurve", "fit"),
        ),
        (
            "/api/v1/posts?cashtag=GME&limit=5",
            "PostsByCashtag",
            {"cashtag": "GME", "limit": 5},
            ("posts",),
        ),
    ]
    for path, name, variables, result in cases:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
        expected: Any = await graphql(client, name, **variables)
        for step in result:
            expected = expected[step]
        assert response.json() == expected, path
    btc = (await client.get("/api/v1/tokens/BTC")).json()
    assert btc["latestPrice"]["close"] > 0


async def test_unknown_entity_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tokens/NOSUCHCOIN")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 404 and problem["instance"] == "/api/v1/tokens/NOSUCHCOIN"


async def test_bad_parameters_are_400_problems_naming_them(client: httpx.AsyncClient) -> None:
    bad_date = await client.get("/api/v1/macro/interest-rate", params={"from": "yesterday"})
    assert bad_date.status_code == 400
    assert bad_date.headers["content-type"] == PROBLEM
    assert "`from`" in bad_date.json()["detail"]
    assert bad_date.json()["code"] == "BAD_USER_INPUT"
    none = await client.get("/api/v1/posts", params={"limit": "0"})
    assert none.status_code == 400  # the subgraph's own BAD_USER_INPUT (1 to 500)
    assert none.json()["code"] == "BAD_USER_INPUT"
    not_json = await client.post(
        "/api/v1/simulations", content="shockBp=100", headers={"content-type": "text/plain"}
    )
    assert not_json.status_code == 415
    # A required parameter left out is named as the URL names it, with what it takes (not the
    # router's words about a GraphQL variable the caller never wrote).
    missing = await client.get("/api/v1/usage", params={"to": "2026-12-08T00:00:00+00:00"})
    assert missing.status_code == 400 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "BAD_USER_INPUT"
    assert missing.json()["detail"] == "Parameter `from` is required: an ISO 8601 date-time."


async def test_observations_page_by_cursor_with_link_headers(client: httpx.AsyncClient) -> None:
    period = {"from": "2024-01-01", "to": "2024-12-31"}
    everything = (await graphql(client, "SeriesObservations", id="DGS10", **period))["series"]
    url: str | None = (
        "/api/v1/macro/series/DGS10/observations?"
        + httpx.QueryParams({**period, "limit": 100}).__str__()
    )
    pages = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        url = response.links.get("next", {}).get("url")
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [o for page in pages for o in page] == everything["observations"]


async def test_market_data_has_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/tokens/ETH/candles?from=2022-01-01&to=2022-01-31")
    assert first.status_code == 200
    assert len(first.json()) == 31
    assert first.headers["cache-control"] == "max-age=60"
    etag = first.headers["etag"]
    again = await client.get(
        "/api/v1/tokens/ETH/candles?from=2022-01-01&to=2022-01-31",
        headers={"if-none-match": etag},
    )
    assert again.status_code == 304 and again.content == b""
    other = await client.get(
        "/api/v1/tokens/ETH/candles?from=2022-02-01&to=2022-02-28",
        headers={"if-none-match": etag},
    )
    assert other.status_code == 200 and other.headers["etag"] != etag


async def test_simulation_runs_as_a_job_and_only_a_caller_may_cancel(
    client: httpx.AsyncClient,
) -> None:
    started = await client.post("/api/v1/simulations", json={"shockBp": 100, "paths": 2000})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in {"QUEUED", "RUNNING", "SUCCEEDED"}
    polled = await client.get(f"/api/v1/simulations/{job['id']}")
    assert polled.status_code == 200 and polled.json()["id"] == job["id"]
    assert polled.headers["cache-control"] == "private, no-store"
    # An anonymous job belongs to nobody: cancelling needs a caller (tests/rest/test_cancel.py).
    cancel = await client.delete(f"/api/v1/simulations/{job['id']}")
    assert cancel.status_code == 401 and cancel.headers["content-type"] == PROBLEM
    unknown = await client.get("/api/v1/simulations/no-such-job")
    assert unknown.status_code == 404
    invalid = await client.post("/api/v1/simulations", json={"shockBp": 100, "paths": -5})
    assert invalid.status_code == 400 and invalid.json()["code"] == "BAD_USER_INPUT"


async def test_watchlists_need_a_caller(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/watchlists", json={"name": "Mine"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_transforms_liquidity_and_inversions_answer_as_in_graphql(
    client: httpx.AsyncClient,
) -> None:
    cases: list[tuple[str, dict[str, Any], str, dict[str, Any], tuple[str, ...]]] = [
        (
            "/api/v1/macro/series/CPIAUCSL/transformed",
            {"units": "PC1", "from": "2024-01-01", "to": "2024-12-31", "limit": 5},
            "SeriesTransformed",
            {
                "id": "CPIAUCSL",
                "units": "PC1",
                "from": "2024-01-01",
                "to": "2024-12-31",
                "first": 5,
            },
            ("series", "transformed"),
        ),
        (
            "/api/v1/macro/net-liquidity",
            {"from": "2024-01-01", "to": "2024-03-31"},
            "NetLiquidity",
            {"from": "2024-01-01", "to": "2024-03-31"},
            ("netLiquidity",),
        ),
        (
            "/api/v1/macro/curve-inversions",
            {"from": "2022-01-01", "min_days": 20},
            "CurveInversions",
            {"from": "2022-01-01", "minDays": 20},
            ("curveInversions",),
        ),
    ]
    for path, params, name, variables, result in cases:
        response = await client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        expected: Any = await graphql(client, name, **variables)
        for key in result:
            expected = expected[key]
        assert response.json() == expected
    page = (await client.get(cases[0][0], params=cases[0][1])).json()
    assert page["totalCount"] == 12 and len(page["edges"]) == 5
    after = await client.get(
        cases[0][0], params={**cases[0][1], "cursor": page["pageInfo"]["endCursor"]}
    )
    assert after.json()["edges"][0]["node"]["date"] == "2024-06-01"
    bad = await client.get(cases[2][0], params={"long_months": 5})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith(PROBLEM)
