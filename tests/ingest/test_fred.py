"""FRED against its fake: series, observations with vintages, pagination, failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable

import pytest

from nexus.assembly.ingest.deadletters import replay
from nexus.assembly.ingest.fakes.fred import _vintages
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import DomainEvent, Record, Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.sinks.macro import OBSERVATION, MacroSink
from nexus.assembly.ingest.sinks.store_side import OFF_LOOP_PAYLOADS
from nexus.events import MacroObservation, decode
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from tests.support.ingest import API_KEY, Databases, faults, hits
from tests.support.live import LiveServer

OBSERVATIONS = "/fred/fred/series/observations"
FRED = connector("fred")


async def stored(analytics: ChdbStore, db: str, series_id: str) -> dict[str, int]:
    """Rows as stored (no FINAL: a duplicate would count) and distinct keys."""
    rows = await analytics.query(
        f"SELECT (SELECT count() FROM {db}.observation_vintages WHERE series_id = {{s:String}}) "
        "AS vintages, "
        f"(SELECT uniqExact(date, realtime_start) FROM {db}.observation_vintages "
        "WHERE series_id = {s:String}) AS vintage_keys, "
        f"(SELECT count() FROM {db}.observations WHERE series_id = {{s:String}}) AS current, "
        f"(SELECT count() FROM {db}.series WHERE id = {{s:String}}) AS series",
        {"s": series_id},
    )
    return dict(rows[0])


async def test_backfill_pages_through_observations_and_keeps_vintages(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
) -> None:
    bus = InProcessBus()
    events = await bus.subscribe("macro.*")
    pipeline = make_pipeline({"NEXUS_FRED_PAGE_SIZE": "3000"}, bus=bus)

    report = await pipeline.run(FRED, Window(only=("DGS10", "GDP")))

    assert report.error is None
    dgs10, gdp = _vintages("DGS10"), _vintages("GDP")
    assert report.rows == len(dgs10) + len(gdp) + 2  # + the two series' metadata
    # DGS10 needs four pages of 3,000; GDP one.
    assert (await hits(fake_servers))[OBSERVATIONS] == 5
    counts = await stored(analytics, databases.macro, "GDP")
    assert counts == {
        "vintages": len(gdp),
        "vintage_keys": len(gdp),
        "current": len(gdp) // 2,  # every quarter: a first release, then the revision
        "series": 1,
    }
    # The first release of GDP 2020Q1 was 0.5% lower, and replaced a month later.
    rows = await analytics.query(
        f"SELECT realtime_start, realtime_end, value FROM {databases.macro}.observation_vintages "
        "WHERE series_id = 'GDP' AND date = '2020-01-01' ORDER BY realtime_start"
    )
    assert [str(r["realtime_start"]) for r in rows] == ["2020-05-01", "2020-06-01"]
    assert str(rows[1]["realtime_end"]) == "2149-06-06"
    assert rows[0]["value"] == pytest.approx(rows[1]["value"] * 0.995, rel=1e-5)
    # Subscribers hear the newest value of each series, once it is stored.
    received = {}
    async with asyncio.timeout(2):
        async for message in events:
            received[message.channel] = decode(message.event)
            if len(received) == 2:
                break
    assert set(received) == {"macro.DGS10", "macro.GDP"}
    latest = received["macro.GDP"]
    assert isinstance(latest, MacroObservation)
    assert latest.date == gdp[-1]["date"]


async def test_rerun_changes_nothing(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
) -> None:
    pipeline = make_pipeline()
    await pipeline.run(FRED, Window(only=("UNRATE",)))
    before = await stored(analytics, databases.macro, "UNRATE")

    # Unchanged `last_updated`: the series is not fetched again.
    again = await pipeline.run(FRED, Window(only=("UNRATE",)))
    assert (again.rows, again.events) == (0, 0)
    assert (await hits(fake_servers))[OBSERVATIONS] == 1
    # A forced backfill re-reads everything and inserts nothing new.
    forced = await pipeline.run(FRED, Window(since=_utc(1900), only=("UNRATE",)))
    assert forced.rows == before["vintages"] + 1 and forced.events == 0
    assert await stored(analytics, databases.macro, "UNRATE") == before


async def test_rate_limits_and_server_errors_are_retried(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
) -> None:
    await faults(fake_servers, OBSERVATIONS, "429:0", "503", "timeout:2")

    report = await make_pipeline().run(FRED, Window(only=("FEDFUNDS",)))

    assert report.error is None and report.retries == 3
    assert (await hits(fake_servers))[OBSERVATIONS] == 4
    counts = await stored(analytics, databases.macro, "FEDFUNDS")
    assert counts["vintages"] == len(_vintages("FEDFUNDS"))


async def test_errors_past_the_retries_end_the_run_without_moving_the_cursor(
    make_pipeline: Callable[..., Pipeline], analytics: ChdbStore, databases: Databases,
    fake_servers: LiveServer,
) -> None:  # fmt: skip
    await faults(fake_servers, OBSERVATIONS, "500", "502", "500", "504")
    pipeline = make_pipeline()

    report = await pipeline.run(FRED, Window(only=("CPIAUCSL",)))

    assert report.error is not None and "HTTP 504 after 4 attempts" in report.error
    assert (await stored(analytics, databases.macro, "CPIAUCSL"))["vintages"] == 0
    # The next run (the source is back) fetches the series: the cursor had not moved.
    again = await pipeline.run(FRED, Window(only=("CPIAUCSL",)))
    assert again.error is None
    assert (await stored(analytics, databases.macro, "CPIAUCSL"))["vintages"] == len(
        _vintages("CPIAUCSL")
    )


async def test_truncated_body_is_dead_lettered_then_replayed(
    make_pipeline: Callable[..., Pipeline],
    analytics: ChdbStore,
    databases: Databases,
    fake_servers: LiveServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await faults(fake_servers, OBSERVATIONS, "truncate")
    pipeline = make_pipeline()

    report = await pipeline.run(FRED, Window(only=("HOUST", "PAYEMS")))

    assert report.error is None and report.dead_letters == 1
    assert (await stored(analytics, databases.macro, "HOUST"))["vintages"] == 0
    assert (await stored(analytics, databases.macro, "PAYEMS"))["vintages"] > 0
    [letter] = await pipeline.dead.letters("fred")
    assert letter.stage == "fetch" and letter.reason.startswith("HOUST: not JSON")
    assert letter.payload["request"]["params"]["api_key"] == "***"
    assert letter.scope["only"] == ["HOUST"]
    assert API_KEY not in json.dumps(letter.to_json())
    assert not [r for r in caplog.records if API_KEY in r.getMessage() + str(r.__dict__)]

    assert await replay(pipeline, [letter]) == (1, 0)
    assert await pipeline.dead.letters("fred") == []
    assert (await stored(analytics, databases.macro, "HOUST"))["vintages"] == len(
        _vintages("HOUST")
    )


async def test_an_unknown_series_is_a_dead_letter_with_freds_message(
    make_pipeline: Callable[..., Pipeline], fake_servers: LiveServer
) -> None:
    pipeline = make_pipeline()

    report = await pipeline.run(FRED, Window(only=("NOSUCHSERIES", "ICSA")))

    assert report.error is None and report.rows > 0
    [letter] = await pipeline.dead.letters("fred")
    assert letter.reason == "NOSUCHSERIES: HTTP 400: Bad Request.  The series does not exist."


async def test_a_missing_api_key_stops_the_run_before_any_request(
    make_pipeline: Callable[..., Pipeline], fake_servers: LiveServer
) -> None:
    report = await make_pipeline({"FRED_API_KEY": ""}).run(FRED, Window(only=("GDP",)))

    assert report.error is not None and "FRED_API_KEY is not set" in report.error
    assert await hits(fake_servers) == {}


def _utc(year: int) -> dt.datetime:
    return dt.datetime(year, 1, 1, tzinfo=dt.UTC)


async def test_the_same_failure_run_after_run_keeps_one_letter(
    make_pipeline: Callable[..., Pipeline], fake_servers: LiveServer
) -> None:
    pipeline = make_pipeline()
    for _ in range(2):
        report = await pipeline.run(FRED, Window(only=("NOSUCHSERIES",)))
        assert report.dead_letters == 1  # each run reports it...

    assert len(await pipeline.dead.letters("fred")) == 1  # ...the store keeps it once


@pytest.mark.parametrize("refused_by", ["store", "batch"])
async def test_a_bad_date_rejects_only_its_record(
    analytics: ChdbStore, databases: Databases, caplog: pytest.LogCaptureFixture, refused_by: str
) -> None:
    """The sink checks a batch's dates a column at a time; a bad one still rejects only its
    own record and the rest of the batch is stored, whether the store's checks refused the
    batch (dates that are text but no day) or building it did (a date that is a number)."""
    sink = MacroSink(analytics, f"{databases.macro}_{refused_by}")
    await sink.ensure_schema()

    def observation(day: object, since: object = "2024-01-02") -> Record:
        payload = {
            "series_id": "DGS10",
            "date": day,
            "realtime_start": since,
            "realtime_end": "9999-12-31",
            "value": "4.1",
        }
        return Record("fred", OBSERVATION, f"DGS10|{day}|{since}", payload)

    good = [observation(f"2024-01-{d:02d}") for d in range(1, 6)]
    bad = [
        observation("2024-13-01"),
        observation(20240106 if refused_by == "batch" else "20240106"),
        observation("2024-01-07\n2024-01-08", since=""),  # a join of two days, and an empty one
    ]
    with caplog.at_level(logging.INFO, logger="nexus.ingest"):
        written = await sink.write([good[0], bad[0], *good[1:3], bad[1], bad[2], *good[3:]])
    assert "checked record by record" in caplog.text  # the batch was refused as a whole
    assert [record for record, _ in written.rejected] == bad
    assert written.rows == 5
    rows = await analytics.query(
        f"SELECT toString(date) AS day FROM {sink.database}.observations ORDER BY date"
    )
    assert [row["day"] for row in rows] == [f"2024-01-{d:02d}" for d in range(1, 6)]


async def test_a_bad_value_or_field_rejects_only_its_record_in_a_mixed_batch(
    analytics: ChdbStore, databases: Databases
) -> None:
    """A missing field or a value FRED would never send (not finite, not a number) rejects
    only its record; the series, the other observations and FRED's "." (no value) are
    stored."""
    sink = MacroSink(analytics, databases.macro)
    await sink.ensure_schema()

    def observation(day: int, value: object, **fields: object) -> Record:
        payload = {
            "series_id": "DGS10",
            "date": f"2024-01-{day:02d}",
            "realtime_start": "2024-01-02",
            "realtime_end": "9999-12-31",
            "value": value,
            **fields,
        }
        return Record("fred", OBSERVATION, f"DGS10|{day}", payload)

    series = Record(
        "fred",
        "macro.series",
        "DGS10",
        {"id": "DGS10", "title": "10-Year", "units": "Percent", "frequency": "Daily"},
    )
    good = [observation(1, "4.1"), observation(2, "."), observation(3, 4.2)]
    bad = [observation(4, "4.3"), observation(5, "inf"), observation(6, "abc")]
    del bad[0].payload["realtime_end"]
    written = await sink.write([series, good[0], bad[0], good[1], bad[1], good[2], bad[2]])
    assert [record for record, _ in written.rejected] == bad
    assert written.rows == 4  # the series and three vintages
    rows = await analytics.query(
        f"SELECT toString(date) AS day, value FROM {databases.macro}.observations ORDER BY date"
    )
    assert [(row["day"], row["value"]) for row in rows] == [
        ("2024-01-01", 4.1),
        ("2024-01-03", 4.2),
    ]
    clean = await sink.write([series, *good])  # written again: nothing refused
    assert clean.rejected == [] and clean.rows == 4


def _observation_records(series_id: str, vintages: list[dict[str, str]]) -> list[Record]:
    """Records as the FRED connector builds them from an observations page."""
    return [
        Record(
            "fred",
            OBSERVATION,
            f"{series_id}|{row['date']}|{row['realtime_start']}",
            {"series_id": series_id, **row},
        )
        for row in vintages
    ]


async def test_the_store_side_write_stores_what_the_row_by_row_write_stores(
    analytics: ChdbStore,
    databases: Databases,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """chDB checks and deduplicates a clean batch itself (`large_parameters`); a ClickHouse
    server's sink does it row by row in Python. Both must store the same vintages and current
    values and raise the same events: on a backfill (with a duplicate key in the batch: the
    last wins), on a re-run (nothing new) and on a revision (one new vintage)."""
    series = Record(
        "fred",
        "macro.series",
        "GDP",
        {"id": "GDP", "title": "Gross Domestic Product", "units": "Bil. $", "frequency": "Q"},
    )
    gdp, dgs10 = _vintages("GDP"), _vintages("DGS10")[:2500]
    assert len(gdp) + len(dgs10) > OFF_LOOP_PAYLOADS  # the batch is made a table off the loop
    duplicate = {**dgs10[10], "value": "9.99"}  # the same key again, later in the batch
    backfill = [
        series,
        *_observation_records("GDP", gdp),
        *_observation_records("DGS10", [*dgs10, duplicate]),
    ]
    newest = max(row["date"] for row in gdp)
    revision = _observation_records(
        "GDP",
        [
            {"date": newest, "realtime_start": "2031-01-02", "realtime_end": "9999-12-31",
             "value": "123456.5"},
        ],
    )  # fmt: skip
    in_store = MacroSink(analytics, databases.macro)
    row_by_row = MacroSink(analytics, f"{databases.macro}_rows")

    async def state(sink: MacroSink) -> tuple[list[tuple[object, ...]], ...]:
        tables = []
        for sql in (
            "SELECT series_id, date, realtime_start, realtime_end, value "
            "FROM {db}.observation_vintages FINAL ORDER BY series_id, date, realtime_start",
            "SELECT series_id, date, value FROM {db}.observations FINAL ORDER BY series_id, date",
            "SELECT (SELECT count() FROM {db}.observation_vintages) AS vintages, "
            "(SELECT count() FROM {db}.observations) AS current",  # as stored: no FINAL
        ):
            rows = await analytics.query(sql.format(db=sink.database))
            tables.append([tuple(row.values()) for row in rows])
        return tuple(tables)

    def shown(events: list[DomainEvent]) -> list[tuple[str, object, object, object]]:
        seen = [decode(event.event) for event in events]
        return [
            (e.series_id, e.date, e.value, e.realtime_start)
            for e in seen
            if isinstance(e, MacroObservation)
        ]

    outcomes = {}
    for sink, in_store_side in ((in_store, True), (row_by_row, False)):
        monkeypatch.setattr(analytics, "reads_batches", in_store_side)
        await sink.ensure_schema()
        steps = []
        for batch in (backfill, backfill, revision):
            with caplog.at_level(logging.DEBUG, logger="nexus.ingest"):
                written = await sink.write(batch)
            steps.append((written.rows, written.rejected, shown(written.events), await state(sink)))
        outcomes[in_store_side] = steps
    assert outcomes[True] == outcomes[False]
    assert "record by record" not in caplog.text  # every batch took the store-side write

    (rows, _, events, (vintages, current, counts)), again, revised = outcomes[True]
    assert rows == 1 + len(gdp) + len(dgs10) + 1
    assert len(vintages) == len(gdp) + len(dgs10)
    assert ("DGS10", dt.date.fromisoformat(dgs10[10]["date"]), 9.99) in current
    assert [e[0] for e in events] == ["DGS10", "GDP"]
    assert again[2] == [] and again[3] == (vintages, current, counts)  # a re-run: nothing new
    assert revised[2] == [("GDP", newest, 123456.5, "2031-01-02")]
    assert counts == [(len(vintages), len(current))]  # stored once each, duplicate included
    assert revised[3][2] == [(len(vintages) + 1, len(current) + 1)]
