"""The first README command's server, started as a real process on a fresh data directory.

`nexus serve` must load the demo data on first start (showing progress) and answer on every
subgraph; `nexus subgraph NAME` must serve one subgraph alone at /graphql.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import NexusProcess, router_headers

SUBGRAPHS = ("macro", "micro", "crypto", "platform")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NexusProcess]:
    server = NexusProcess(["serve"], tmp_path_factory.mktemp("serve"))
    server.wait()
    yield server
    server.stop()


def test_first_start_loads_the_demo_data_with_progress(served: NexusProcess) -> None:
    log = served.log.read_text()
    for step in ("[1/4] macro", "[2/4] micro", "[3/4] crypto", "[4/4] platform", "demo data ready"):
        assert step in log


def test_every_subgraph_answers_with_demo_data(served: NexusProcess) -> None:
    macro = served.query(
        "/subgraphs/macro/graphql",
        '{ series(id: "DGS10") { observations(from: "2024-01-01", to: "2024-12-31") { value } } }',
        router_headers(),
    )
    assert len(macro["data"]["series"]["observations"]) == 250
    crypto = served.query(
        "/subgraphs/crypto/graphql", '{ token(symbol: "BTC") { name } }', router_headers()
    )
    assert crypto == {"data": {"token": {"name": "Bitcoin"}}}
    micro = served.query(
        "/subgraphs/micro/graphql", '{ stock(symbol: "GME") { name } }', router_headers()
    )
    assert micro["data"]["stock"]["name"].startswith("GameStop")
    platform = served.query(
        "/subgraphs/platform/graphql",
        "{ publicWatchlists { name items { kind key } } }",
        router_headers(),
    )
    watchlist = platform["data"]["publicWatchlists"][0]
    assert watchlist["name"] == "Meme and macro"
    assert {(i["kind"], i["key"]) for i in watchlist["items"]} >= {
        ("TOKEN", "BTC"),
        ("SERIES", "DGS10"),
    }


def test_one_query_spans_the_four_subgraphs_at_graphql(served: NexusProcess) -> None:
    response = served.query(
        "/graphql",
        "{ publicWatchlists { items { key instrument { "
        "__typename ... on Token { latestPrice { close } } "
        '... on Stock { candles(from: "2021-01-27", to: "2021-01-27") { close } } '
        "... on Series { latest { value } } } } } }",
    )
    assert "errors" not in response
    assert response["extensions"]["cost"]["estimated"] > response["extensions"]["cost"]["actual"]
    items = response["data"]["publicWatchlists"][0]["items"]
    by_key = {item["key"]: item["instrument"] for item in items}
    assert by_key["BTC"] == {"__typename": "Token", "latestPrice": {"close": 17003.017578}}
    assert by_key["GME"] == {"__typename": "Stock", "candles": [{"close": 86.877502}]}
    assert by_key["WALCL"] == {"__typename": "Series", "latest": {"value": 6581231.0}}


def test_health_and_a_malformed_date_over_http(served: NexusProcess) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served.url}/readyz").json()
    assert ready["ready"] is True
    assert set(ready["stores"]) == {"analytics", "platform", "vectors", "bus"}
    bad = served.query(
        "/subgraphs/macro/graphql", '{ yieldCurve(date: "yesterday") { date } }', router_headers()
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(bad)


def test_one_subgraph_runs_alone_at_graphql(tmp_path: Path) -> None:
    server = NexusProcess(["subgraph", "macro"], tmp_path)
    try:
        server.wait()
        response = server.query(
            "/graphql",
            '{ series(id: "DGS10") { observations(from: "2024-12-30", to: "2024-12-31") '
            "{ date value } } }",
            router_headers(),
        )
        assert response == {
            "data": {
                "series": {
                    "observations": [
                        {"date": "2024-12-30", "value": 4.55},
                        {"date": "2024-12-31", "value": 4.58},
                    ]
                }
            }
        }
        sdl = server.query("/graphql", "{ _service { sdl } }", router_headers())["data"][
            "_service"
        ]["sdl"]
        assert "type Series @key" in sdl and "type Token" not in sdl
        # Only the router may call a subgraph: an unsigned or forged call is refused.
        unsigned = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"})
        assert unsigned.status_code == 401
        assert unsigned.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        forged = router_headers()
        forged["nexus-caller"] = forged["nexus-caller"][:-4] + "AAAA"
        refused = httpx.post(
            f"{server.url}/graphql", json={"query": "{ __typename }"}, headers=forged
        )
        assert refused.status_code == 401
        page = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"}).text
        assert "https://" not in page
        assets = httpx.get(f"{server.url}/graphiql-assets/graphiql.min.css")
        assert assets.status_code == 200
    finally:
        server.stop()


def test_client_schema_is_served_for_codegen(served: NexusProcess) -> None:
    response = httpx.get(f"{served.url}/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    checked_in = (Path(__file__).resolve().parents[1] / "schema.graphql").read_text()
    assert response.text == checked_in


def test_every_graphiql_page_works_offline(served: NexusProcess) -> None:
    html = {"accept": "text/html"}
    for path in ["/graphql", *(f"/subgraphs/{name}/graphql" for name in SUBGRAPHS)]:
        page = httpx.get(f"{served.url}{path}", headers=html).text
        assert "/graphiql-assets/graphiql.min.js" in page, path
        assert "https://" not in page, path  # nothing from a CDN
    script = httpx.get(f"{served.url}/graphiql-assets/graphiql.min.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
