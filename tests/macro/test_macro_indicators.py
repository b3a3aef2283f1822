"""Transforms, frequency aggregation, net liquidity, curve inversions and vintages (asOf), on
the shared store with the real demo data; vintages come from ingesting the fake FRED."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import math
from collections.abc import Callable
from statistics import mean
from typing import Any

import pytest
from graphql import ExecutionResult

from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connector
from nexus.config import Settings
from nexus.demo import DEMO_DATA
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from subgraphs.macro import subgraph
from tests.support.graphql import execute
from tests.support.ingest import databases, fake_servers, make_pipeline

__all__ = ["databases", "fake_servers", "make_pipeline"]  # fixtures of the vintage test


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


def demo(series_id: str) -> list[tuple[dt.date, float]]:
    with gzip.open(DEMO_DATA / "fred_observations.csv.gz", "rt") as file:
        return [
            (dt.date.fromisoformat(row["date"]), float(row["value"]))
            for row in csv.DictReader(file)
            if row["series_id"] == series_id
        ]


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


async def test_year_over_year_percent_change_of_cpi(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ series(id: "CPIAUCSL") { transformed(units: PC1, from: "2023-01-01", '
        'to: "2023-12-31") { totalCount edges { node { date value } } } } }',
    )
    got = nodes(response["data"]["series"]["transformed"])
    cpi = dict(demo("CPIAUCSL"))
    assert len(got) == 12
    for point in got:
        day = dt.date.fromisoformat(point["date"])
        expected = 100 * (cpi[day] / cpi[day.replace(year=day.year - 1)] - 1)
        assert point["value"] == pytest.approx(expected, abs=1e-9)


async def test_monthly_average_then_annualised_rate(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ series(id: "DGS10") { average: transformed(frequency: MONTH, from: "2024-01-01", '
        'to: "2024-12-31") { edges { node { date value } } } '
        "cca: transformed(units: CCA, frequency: QUARTER, aggregation: END_OF_PERIOD, "
        'from: "2024-04-01", to: "2024-06-30") { edges { node { date value } } } } }',
    )
    series = response["data"]["series"]
    months = nodes(series["average"])
    dgs10 = demo("DGS10")
    january = [v for d, v in dgs10 if d.year == 2024 and d.month == 1]
    assert [m["date"] for m in months] == [f"2024-{m:02d}-01" for m in range(1, 13)]
    assert months[0]["value"] == pytest.approx(mean(january), abs=1e-12)
    # End of Q2 2024 against end of Q1, continuously compounded, times 4 quarters a year.
    last = dict(dgs10)
    q1 = last[max(d for d in last if dt.date(2024, 1, 1) <= d <= dt.date(2024, 3, 31))]
    q2 = last[max(d for d in last if dt.date(2024, 4, 1) <= d <= dt.date(2024, 6, 30))]
    [quarter] = nodes(series["cca"])
    assert quarter == {"date": "2024-04-01", "value": pytest.approx(400 * math.log(q2 / q1))}


async def test_long_lists_page_with_cursors(stores: Stores) -> None:
    query = (
        'query($after: String) { series(id: "DGS10") { transformed(from: "2024-01-01", '
        'to: "2024-12-31", first: 100, after: $after) { totalCount edges { node { date } } '
        "pageInfo { hasNextPage hasPreviousPage endCursor } } } }"
    )
    dates: list[str] = []
    after = None
    while True:
        response = await execute(subgraph, stores, query, {"after": after})
        page = response["data"]["series"]["transformed"]
        dates += [node["date"] for node in nodes(page)]
        assert page["totalCount"] == 250
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(dates) == 250 and dates == sorted(set(dates))


async def test_net_liquidity_converts_units_and_says_the_tga_is_missing(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ netLiquidity(from: "2024-12-01", to: "2024-12-31") { totalCount edges { node { '
        "date fedAssets reverseRepo treasuryGeneralAccount value excludingTga } } } }",
    )
    points = nodes(response["data"]["netLiquidity"])
    walcl, rrp = dict(demo("WALCL")), demo("RRPONTSYD")
    assert [p["date"] for p in points] == [
        d.isoformat() for d in sorted(walcl) if dt.date(2024, 12, 1) <= d <= dt.date(2024, 12, 31)
    ]
    for point in points:
        day = dt.date.fromisoformat(point["date"])
        repo = [v for d, v in rrp if d <= day][-1]
        assert point["fedAssets"] == pytest.approx(walcl[day] / 1000)  # millions -> billions
        assert point["reverseRepo"] == repo
        assert point["excludingTga"] == pytest.approx(walcl[day] / 1000 - repo)
        # The demo data has no Treasury General Account (WTREGEN): no full figure.
        assert point["treasuryGeneralAccount"] is None and point["value"] is None


async def test_the_2022_to_2024_ten_two_inversion(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ curveInversions(from: "2022-01-01", to: "2024-12-31", minDays: 20) { edges { node { '
        "start end days deepestSpread deepestDate ongoing } } } }",
    )
    found = nodes(response["data"]["curveInversions"])
    # The same, straight from the published curve (10Y column minus 2Y column).
    with gzip.open(DEMO_DATA / "treasury_par_curve.csv.gz", "rt") as file:
        spreads = [
            (row["date"], float(row["10 Yr"]) - float(row["2 Yr"]))
            for row in csv.DictReader(file)
            if "2022-01-01" <= row["date"] <= "2024-12-31"
        ]
    runs: list[list[tuple[str, float]]] = [[]]
    for day, spread in spreads:
        if spread < 0:
            runs[-1].append((day, spread))
        elif runs[-1]:
            runs.append([])
    long_runs = [run for run in runs if len(run) >= 20]
    assert [(n["start"], n["end"], n["days"]) for n in found] == [
        (run[0][0], run[-1][0], len(run)) for run in long_runs
    ]
    longest = max(found, key=lambda n: n["days"])
    assert longest["start"].startswith("2022-07") and longest["days"] > 400
    assert longest["deepestSpread"] < -1.0 and not longest["ongoing"]


async def test_as_of_returns_the_series_as_first_published(
    stores: Stores,
    analytics: ChdbStore,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    # Vintages of GDPC1 into the shared `macro` database: the fake serves the demo's values as
    # the current vintage, so only the vintages table gains rows.
    pipeline = make_pipeline()
    pipeline.databases = {"macro": "macro"}
    report = await pipeline.run(connector("fred"), Window(only=("GDPC1",)))
    assert report.error is None

    response = await execute(
        subgraph,
        stores,
        '{ series(id: "GDPC1") { hasVintages '
        'early: observations(from: "2023-10-01", to: "2023-10-01", asOf: "2024-02-15") '
        "{ date value } "
        'before: observations(from: "2023-10-01", to: "2023-10-01", asOf: "2024-01-15") '
        "{ date value } "
        'now: observations(from: "2023-10-01", to: "2023-10-01") { date value } '
        'revisions(date: "2023-10-01") { realtimeStart realtimeEnd value } } }',
    )
    series = response["data"]["series"]
    current = dict(demo("GDPC1"))[dt.date(2023, 10, 1)]
    assert series["hasVintages"] is True
    assert series["now"] == [{"date": "2023-10-01", "value": current}]
    # The fake's first release of 2023Q4: on 2024-02-01, 0.5% below the revised value.
    assert series["early"] == [{"date": "2023-10-01", "value": pytest.approx(current * 0.995)}]
    assert series["before"] == []  # not yet published on 2024-01-15
    assert [r["realtimeStart"] for r in series["revisions"]] == ["2024-02-01", "2024-03-01"]
    assert series["revisions"][1]["realtimeEnd"] is None


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ series(id: "DGS10") { observations(asOf: "2024-01-01") { date } } }', "asOf"),
        ('{ series(id: "DGS10") { transformed(first: 0) { totalCount } } }', "first"),
        ('{ series(id: "DGS10") { transformed(after: "nonsense") { totalCount } } }', "after"),
        ("{ curveInversions(longMonths: 5) { totalCount } }", "longMonths"),
        ("{ curveInversions(longMonths: 24, shortMonths: 120) { totalCount } }", "longMonths"),
        ('{ netLiquidity(from: "2024-02-01", to: "2024-01-01") { totalCount } }', "from"),
    ],
)
async def test_bad_arguments_are_named(stores: Stores, query: str, argument: str) -> None:
    response = await execute(subgraph, stores, query)
    [error] = response["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument


async def test_subscribers_get_each_series_newest_value_once_ingested(
    analytics: ChdbStore, make_pipeline: Callable[..., Pipeline]
) -> None:
    bus = InProcessBus()
    stores = Stores(settings=Settings.from_env({}), analytics=analytics, bus=bus)
    updates = await subgraph.schema.subscribe(
        'subscription { macroObservations(seriesIds: ["icsa"]) { seriesId date value } }',
        context_value=subgraph.make_context(stores),
    )
    assert not isinstance(updates, ExecutionResult)
    first = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0.1)  # subscribed before anything is published

    report = await make_pipeline(bus=bus).run(connector("fred"), Window(only=("ICSA",)))

    assert report.error is None
    result = await asyncio.wait_for(first, 5)
    last_date, last_value = demo("ICSA")[-1]
    assert result.data == {
        "macroObservations": {
            "seriesId": "ICSA",
            "date": last_date.isoformat(),
            "value": last_value,
        }
    }
    await updates.aclose()


async def test_the_first_representable_day_is_an_empty_answer_not_a_failure(
    stores: Stores,
) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ netLiquidity(from: "0001-01-01", to: "0001-01-01") { totalCount } '
        'series(id: "CPIAUCSL") { transformed(units: PC1, frequency: WEEK, from: "0001-01-01", '
        'to: "0001-01-02") { totalCount } } }',
    )
    assert response == {
        "data": {
            "netLiquidity": {"totalCount": 0},
            "series": {"transformed": {"totalCount": 0}},
        }
    }
