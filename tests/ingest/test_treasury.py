"""The Treasury par yield curve feed (XML) against its fake."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections.abc import Callable

import pytest

from nexus.assembly.ingest.checkpoints import CursorStore
from nexus.assembly.ingest.connectors.treasury import parse_feed
from nexus.assembly.ingest.deadletters import replay
from nexus.assembly.ingest.errors import BadPayload
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connector
from nexus.stores.analytics import ChdbStore
from tests.support.ingest import Databases, demo_path, faults, hits
from tests.support.live import LiveServer

FEED = "/treasury/resource-center/data-chart-center/interest-rates/pages/xml"
TREASURY = connector("treasury")


def published_rates(year: int) -> int:
    """Non-empty rates of `year` in the demo file the fake serves."""
    with gzip.open(demo_path() / "treasury_par_curve.csv.gz", "rt") as file:
        rows = [row for row in csv.DictReader(file) if row["date"].startswith(f"{year}-")]
    return sum(1 for row in rows for tenor, rate in row.items() if tenor != "date" and rate)


def utc(year: int, month: int = 1, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=dt.UTC)


async def curve_rows(analytics: ChdbStore, db: str) -> int:
    rows = await analytics.query(f"SELECT count() AS n FROM {db}.par_curve")
    return int(rows[0]["n"])


async def test_backfill_one_year_per_request_then_only_new_days(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
) -> None:
    pipeline = make_pipeline()

    report = await pipeline.run(TREASURY, Window(since=utc(2023), until=utc(2024, 12, 31)))

    assert report.error is None
    assert await curve_rows(analytics, databases.macro) == published_rates(2023) + published_rates(
        2024
    )
    assert (await hits(fake_servers))[FEED] == 2
    cursor = await CursorStore(analytics, databases.state).load("treasury")
    assert cursor == {"through": "2024-12-31"}
    rows = await analytics.query(
        f"SELECT months, rate FROM {databases.macro}.par_curve WHERE date = '2024-12-31' "
        "ORDER BY months"
    )
    # The real 2024-12-31 curve: 1M 4.40%, 10Y 4.58%, 30Y 4.78%.
    rates = {row["months"]: row["rate"] for row in rows}
    assert (rates[1], rates[120], rates[360]) == (4.4, 4.58, 4.78)

    # From the cursor on: the years after 2024 hold nothing new; nothing is written again.
    again = await pipeline.run(TREASURY, Window(until=utc(2025, 6, 30)))
    assert again.error is None and again.rows == 0
    assert await curve_rows(analytics, databases.macro) == published_rates(2023) + published_rates(
        2024
    )


async def test_a_truncated_feed_is_a_dead_letter_and_the_cursor_waits(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
) -> None:
    await faults(fake_servers, FEED, "truncate")
    pipeline = make_pipeline()

    report = await pipeline.run(TREASURY, Window(since=utc(2022), until=utc(2022, 12, 31)))

    assert report.dead_letters == 1 and report.rows == 0
    [letter] = await pipeline.dead.letters("treasury")
    assert letter.reason.startswith("2022: not XML")
    assert await CursorStore(analytics, databases.state).load("treasury") == {}

    assert await replay(pipeline, [letter]) == (1, 0)
    assert await curve_rows(analytics, databases.macro) == published_rates(2022)


def test_an_html_error_page_instead_of_the_feed_is_refused() -> None:
    with pytest.raises(BadPayload, match="not an Atom feed"):
        parse_feed("<html><body>Service temporarily unavailable</body></html>", {})
