"""The macro subgraph on the embedded store loaded with the real demo data."""

from __future__ import annotations

import csv
import gzip

import pytest

from nexus.config import Settings
from nexus.demo import DEMO_DATA
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.macro import subgraph
from subgraphs.macro.demo import load_demo
from tests.support.graphql import execute


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


def fred_values(series_id: str, year: int) -> list[dict[str, object]]:
    """The series' values in `year` as FRED published them (the shipped demo file)."""
    with gzip.open(DEMO_DATA / "fred_observations.csv.gz", "rt") as file:
        return [
            {"date": row["date"], "value": float(row["value"])}
            for row in csv.DictReader(file)
            if row["series_id"] == series_id and row["date"].startswith(str(year))
        ]


async def test_dgs10_observations_in_2024_are_the_real_fred_values(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ series(id: "DGS10") { id title units frequency '
        'observations(from: "2024-01-01", to: "2024-12-31") { date value } } }',
    )
    series = response["data"]["series"]
    assert series["id"] == "DGS10"
    assert series["units"] == "Percent" and series["frequency"] == "Daily"
    assert series["observations"] == fred_values("DGS10", 2024)
    assert len(series["observations"]) == 250
    assert series["observations"][0] == {"date": "2024-01-02", "value": 3.95}
    assert series["observations"][-1] == {"date": "2024-12-31", "value": 4.58}


async def test_series_ids_are_case_insensitive_and_latest_is_the_last_value(stores: Stores) -> None:
    response = await execute(
        subgraph, stores, '{ series(id: "walcl") { id latest { date value } } }'
    )
    assert response["data"]["series"] == {
        "id": "WALCL",
        "latest": {"date": "2025-12-24", "value": 6581231.0},
    }


async def test_the_yield_curve_has_every_published_tenor(stores: Stores) -> None:
    response = await execute(
        subgraph, stores, '{ yieldCurve(date: "2024-12-31") { date points { tenor months rate } } }'
    )
    curve = response["data"]["yieldCurve"]
    assert curve["date"] == "2024-12-31"
    assert [p["tenor"] for p in curve["points"]] == [
        "1M",
        "2M",
        "3M",
        "4M",
        "6M",
        "1Y",
        "2Y",
        "3Y",
        "5Y",
        "7Y",
        "10Y",
        "20Y",
        "30Y",
    ]
    assert curve["points"][0]["rate"] == 4.4 and curve["points"][-1]["rate"] == 4.78


async def test_a_weekend_gets_the_curve_of_the_last_business_day(stores: Stores) -> None:
    response = await execute(subgraph, stores, '{ yieldCurve(date: "2024-01-06") { date } }')
    assert response["data"]["yieldCurve"] == {"date": "2024-01-05"}
    early = await execute(subgraph, stores, '{ yieldCurve(date: "1985-01-01") { date } }')
    assert early == {"data": {"yieldCurve": None}}


async def test_an_unknown_series_is_null_and_nothing_else(stores: Stores) -> None:
    response = await execute(subgraph, stores, '{ series(id: "NOPE") { id title } }')
    assert response == {"data": {"series": None}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ series(id: "DGS10") { observations(from: "2024-13-01") { value } } }', None),
        ("query($d: Date!) { yieldCurve(date: $d) { date } }", {"d": "31/12/2024"}),
        (
            '{ series(id: "DGS10") { observations(from: "2024-02-01", to: "2024-01-01") '
            "{ value } } }",
            None,
        ),
    ],
)
async def test_malformed_or_inverted_dates_are_bad_user_input(
    stores: Stores, query: str, variables: dict[str, str] | None
) -> None:
    response = await execute(subgraph, stores, query, variables)
    assert [e["extensions"]["code"] for e in response["errors"]] == ["BAD_USER_INPUT"]
    assert "Traceback" not in response["errors"][0]["message"]


@pytest.mark.parametrize("count", [5, 50])
async def test_entities_make_a_constant_number_of_store_round_trips(
    stores: Stores, analytics: ChdbStore, count: int
) -> None:
    ids = ["DGS10", "DGS2", "WALCL", "M2SL", "UNKNOWN"] * (count // 5)
    before = analytics.round_trips
    response = await execute(
        subgraph,
        stores,
        "query($r: [_Any!]!) { _entities(representations: $r) { "
        "... on Series { id latest { value } "
        'observations(from: "2024-01-01", to: "2024-01-31") { value } } } }',
        {"r": [{"__typename": "Series", "id": i} for i in ids]},
    )
    entities = response["data"]["_entities"]
    assert len(entities) == count and entities[4] is None and entities[0]["id"] == "DGS10"
    assert len(entities[0]["observations"]) == 21
    # series metadata, observations, latest values: three queries whatever the count.
    assert analytics.round_trips - before == 3


async def test_the_sdl_declares_series_as_an_entity(stores: Stores) -> None:
    response = await execute(subgraph, stores, "{ _service { sdl } }")
    assert 'type Series @key(fields: "id")' in response["data"]["_service"]["sdl"]


async def test_loading_twice_adds_no_rows(analytics: ChdbStore) -> None:
    async def counts() -> list[int]:
        rows = await analytics.query(
            "SELECT (SELECT count() FROM macro.series) AS s, "
            "(SELECT count() FROM macro.observations) AS o, "
            "(SELECT count() FROM macro.par_curve) AS c"
        )
        return [rows[0]["s"], rows[0]["o"], rows[0]["c"]]

    before = await counts()
    loaded = await load_demo(analytics)
    assert (
        await counts()
        == before
        == [loaded["macro.series"], loaded["macro.observations"], loaded["macro.par_curve"]]
    )
