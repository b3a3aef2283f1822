"""The macro sink: FRED series, observations with their ALFRED vintages, Treasury par yields.

Idempotent twice over: the tables are ReplacingMergeTrees on the record keys, and each batch
first reads the stored rows of its keys and inserts only rows that are new or changed, so a
re-run inserts nothing and reads without FINAL never see a duplicate.

Record kinds and payloads (JSON values, as the sources publish them):
- `macro.series`: {id, title, units, frequency}
- `macro.observation`: {series_id, date, realtime_start, realtime_end, value} with dates as
  YYYY-MM-DD, realtime_end 9999-12-31 for the current vintage, value a number, a numeric
  string, or "."/null for "no value in this vintage" (FRED's missing-value mark)
- `macro.par_yield`: {date, months, rate} (rate in percent)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from nexus.assembly.ingest.records import DomainEvent, Record, Written
from nexus.assembly.ingest.schema import ensure
from nexus.assembly.ingest.sinks.store_side import (
    ISO_DAY,
    ONE_BLOCK,
    SQL_ISO_DAY,
    arrow_batch,
    first_line,
    iso_day,
)
from nexus.errors import StoreUnavailable
from nexus.events import MacroObservation, encode, macro_channel
from nexus.stores.analytics import BATCH, AnalyticsStore
from subgraphs.macro.ddl import statements

SERIES = "macro.series"
OBSERVATION = "macro.observation"
# An observation payload's fields as the store-side write reads them (`arrow_batch`): FRED's
# vintage, its value a decimal string, "." (no value) or null.
VINTAGE_FIELDS = dict.fromkeys(("series_id", "date", "realtime_start", "realtime_end", "value"),
                               "string")
PAR_YIELD = "macro.par_yield"

IN_WINDOW = "series_id IN {ids:Array(String)} AND date >= {start:Date} AND date <= {end:Date}"
FOREVER = dt.date(2149, 6, 6)  # ClickHouse's last Date: FRED's 9999-12-31, "still current"


LAST_DAY = FOREVER.isoformat()
FIRST_CURRENT_DAY = "1970-01-01"  # `observations.date` is a Date: vintages keep earlier days
ISO_DAYS = re.compile(rf"(?:{ISO_DAY.pattern}\n)*{ISO_DAY.pattern}")  # joined by newlines
T = TypeVar("T")
log = logging.getLogger("nexus.ingest")
VintageRow = tuple[str, str, str, str, float | None]  # series, date, since, until: YYYY-MM-DD


def fred_date(text: str) -> dt.date:
    day = dt.date.fromisoformat(text)
    return min(day, FOREVER)


def _all_days(rows: Sequence[Sequence[Any]]) -> bool:
    """Whether every date of `rows` (fields 1-3) is a YYYY-MM-DD day, as `iso_day` checks one:
    each field a 10-character string and their join one match (C loops, no call per field)."""
    for index in (1, 2, 3):
        column: list[Any] = [row[index] for row in rows]
        try:
            text = "\n".join(column)
        except TypeError:  # a field that is no string
            return False
        if column and (set(map(len, column)) != {10} or ISO_DAYS.fullmatch(text) is None):
            return False
    return True


def _newest(
    fresh: list[tuple[tuple[str, str], tuple[float, str]]],
) -> list[tuple[tuple[str, str], tuple[float, str]]]:
    """Each series' newest observation among `fresh` (ISO dates order as strings)."""
    newest: dict[str, tuple[tuple[str, str], tuple[float, str]]] = {}
    for item in fresh:
        sid, day = item[0]
        if sid not in newest or day > newest[sid][0][1]:
            newest[sid] = item
    return list(newest.values())


def fred_value(value: Any) -> float | None:
    if value is None or value == ".":
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"value {value!r} is not a finite number")
    return number


class MacroSink:
    kinds = frozenset({SERIES, OBSERVATION, PAR_YIELD})

    def __init__(self, store: AnalyticsStore, database: str = "macro") -> None:
        self.store = store
        self.database = database

    async def ensure_schema(self) -> None:
        await ensure(self.store, statements(self.database))

    async def write(self, records: list[Record]) -> Written:
        if self.store.reads_batches:
            written = await self._write_in_store(records)
            if written is not None:
                return written
        # The observations' dates are checked a column at a time (`_all_days`); only a batch
        # with a bad one is parsed again, record by record, to reject just those records.
        series, vintages, yields, rejected = self._parse(records, check_days=False)
        if not _all_days(vintages):
            series, vintages, yields, rejected = self._parse(records, check_days=True)
        # The tables' inserts are started as soon as their rows are known and awaited
        # together: the store writes one table while this process prepares the next.
        async with _Inserts(self.store) as inserts:
            await self._series(series, inserts)
            events = await self._observations(vintages, inserts)
            events += await self._yields(yields, inserts)
        return Written(events, rejected, len(series) + len(vintages) + len(yields))

    async def _write_in_store(self, records: list[Record]) -> Written | None:
        """The batch's observations checked, deduplicated and written by the store itself:
        their payloads go to it as one Arrow table (`arrow_batch`), and three statements do
        what `_observations` does a row at a time in Python (this process's CPU per
        observation is one pass to pick the payloads and one per field to build columns). None
        (nothing written, nothing refused) where a payload fails a check: the caller then
        writes the batch record by record, refusing just the bad records."""
        payloads = [record.payload for record in records if record.kind == OBSERVATION]
        others = [record for record in records if record.kind != OBSERVATION]
        if not payloads:
            return None
        batch = await arrow_batch(payloads, VINTAGE_FIELDS, "series_id", frozenset({"value"}))
        if isinstance(batch, str):
            _by_record(batch)
            return None
        ids, table = batch
        series, _, yields, rejected = self._parse(others, check_days=True)
        async with _Inserts(self.store) as inserts:
            await self._series(series, inserts)
            try:
                await self.store.insert_batch(self._vintages_sql, table, {"ids": ids})
            except StoreUnavailable:
                raise
            except Exception as error:  # a payload the checks refused: record by record
                _by_record(first_line(error))
                return None
            newest = await self.store.query(self._newest_sql, {"ids": ids})
            await self.store.command(self._current_sql, {"ids": ids})
            events = _newest_events(
                (row["series_id"], row["newest"], row["value"], row["since"]) for row in newest
            )
            events += await self._yields(yields, inserts)
        return Written(events, rejected, len(series) + len(payloads) + len(yields))

    @property
    def _vintages_sql(self) -> str:
        """New or changed vintages of the payloads in the batch, of the series {ids}; a payload
        that is not one FRED would publish (a date not YYYY-MM-DD, a value neither a finite
        number nor "."/null, a field not a vintage's) fails the statement, and nothing is
        written: the payloads are one block (`max_block_size`), inserted whole or not at all.
        Duplicates in the batch: the last one wins, as in `_observations`."""
        day = SQL_ISO_DAY
        return f"""INSERT INTO {self.database}.observation_vintages
            (series_id, date, realtime_start, realtime_end, value)
        SELECT series_id, toDate32(date), toDate32(realtime_start), toDate32(until), number
        FROM (
            SELECT series_id, date, realtime_start, rowNumberInAllBlocks() AS n,
                if(realtime_end >= '{LAST_DAY}', '{LAST_DAY}', realtime_end) AS until,
                if(value IS NULL OR value = '.', NULL, toFloat64(value)) AS number
            FROM {BATCH}
            WHERE throwIf(NOT (match(date, {day}) AND match(realtime_start, {day})
                    AND match(realtime_end, {day})), 'a date is not YYYY-MM-DD') = 0
                AND throwIf(number IS NOT NULL AND NOT isFinite(number),
                    'a value is not finite') = 0
            ORDER BY n DESC
            LIMIT 1 BY series_id, date, realtime_start
        )
        WHERE (series_id, date, realtime_start, until, number) NOT IN (
            SELECT series_id, toString(date), toString(realtime_start),
                toString(realtime_end), value
            FROM {self.database}.observation_vintages FINAL
            WHERE series_id IN {{ids:Array(String)}})
        SETTINGS transform_null_in = 1, {ONE_BLOCK}"""

    @property
    def _fresh_sql(self) -> str:
        """Each day's current value (the newest vintage still current; `observations` keeps
        1970 on) of the series {ids} that `observations` does not hold yet."""
        return f"""SELECT series_id, toDate(date) AS day,
                argMax(value, realtime_start) AS latest, max(realtime_start) AS since
            FROM {self.database}.observation_vintages FINAL
            WHERE series_id IN {{ids:Array(String)}} AND realtime_end = '{LAST_DAY}'
                AND value IS NOT NULL AND date >= '{FIRST_CURRENT_DAY}'
            GROUP BY series_id, date
            HAVING (series_id, day, latest) NOT IN (
                SELECT series_id, date, value FROM {self.database}.observations FINAL
                WHERE series_id IN {{ids:Array(String)}})"""

    @property
    def _newest_sql(self) -> str:
        return f"""SELECT series_id, max(day) AS newest, argMax(latest, day) AS value,
                argMax(since, day) AS since
            FROM ({self._fresh_sql}) GROUP BY series_id ORDER BY series_id"""

    @property
    def _current_sql(self) -> str:
        return f"""INSERT INTO {self.database}.observations (series_id, date, value)
            SELECT series_id, day, latest FROM ({self._fresh_sql})"""

    def _parse(
        self, records: list[Record], *, check_days: bool
    ) -> tuple[
        list[tuple[str, str, str, str]],
        list[VintageRow],
        list[tuple[dt.date, int, float]],
        list[tuple[Record, str]],
    ]:
        series: list[tuple[str, str, str, str]] = []
        vintages: list[VintageRow] = []
        yields: list[tuple[dt.date, int, float]] = []
        rejected: list[tuple[Record, str]] = []
        for record in records:
            p = record.payload
            try:
                if record.kind == OBSERVATION:  # by far the most: kept as checked strings
                    row = (
                        str(p["series_id"]),
                        p["date"],
                        p["realtime_start"],
                        p["realtime_end"],
                        fred_value(p["value"]),
                    )
                    if check_days:
                        iso_day(row[1]), iso_day(row[2]), iso_day(row[3])
                    vintages.append(row)
                elif record.kind == SERIES:
                    series.append(
                        (str(p["id"]), str(p["title"]), str(p["units"]), str(p["frequency"]))
                    )
                elif record.kind == PAR_YIELD:
                    rate = fred_value(p["rate"])
                    if rate is None:
                        raise ValueError("a par yield needs a rate")
                    yields.append((dt.date.fromisoformat(p["date"]), int(p["months"]), rate))
                else:
                    rejected.append((record, f"the macro sink does not store {record.kind!r}"))
            except (KeyError, TypeError, ValueError) as error:
                rejected.append((record, f"bad {record.kind}: {type(error).__name__}: {error}"))
        return series, vintages, yields, rejected

    async def _series(self, rows: Sequence[tuple[str, str, str, str]], inserts: _Inserts) -> None:
        if not rows:
            return
        stored = await self.store.query(
            f"SELECT id, title, units, frequency FROM {self.database}.series FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": sorted({row[0] for row in rows})},
        )
        known = {(r["id"], r["title"], r["units"], r["frequency"]) for r in stored}
        new = list(dict.fromkeys(row for row in rows if row not in known))
        await inserts.start(f"{self.database}.series", ["id", "title", "units", "frequency"], new)

    async def _observations(
        self, rows: Sequence[VintageRow], inserts: _Inserts
    ) -> list[DomainEvent]:
        """Dates stay YYYY-MM-DD strings from the payload to the INSERT (ClickHouse parses
        them): a backfill's hundreds of thousands of rows never become `date` objects."""
        if not rows:
            return []
        window = {
            "ids": sorted({row[0] for row in rows}),
            "start": min(row[1] for row in rows),
            "end": max(row[1] for row in rows),
        }
        # Both tables' stored rows in the window are read while the batch is deduplicated
        # (the reads are on the store's thread once their tasks have taken their first step).
        reads = [
            asyncio.ensure_future(self.store.query(sql, window))
            for sql in (
                "SELECT series_id, toString(date) AS day, toString(realtime_start) AS since, "
                "toString(realtime_end) AS until, value "
                f"FROM {self.database}.observation_vintages FINAL WHERE {IN_WINDOW}",
                "SELECT series_id, toString(date) AS day, value "
                f"FROM {self.database}.observations FINAL WHERE {IN_WINDOW}",
            )
        ]
        await asyncio.sleep(0)
        latest: dict[tuple[str, str, str], tuple[str, float | None]] = {}
        for sid, day, since, until, value in rows:  # the last of duplicates in a batch wins
            latest[(sid, day, since)] = (until if until < LAST_DAY else LAST_DAY, value)
        stored, stored_current = await _settled(*reads)
        if stored:
            known = {
                (r["series_id"], r["day"], r["since"]): (r["until"], r["value"]) for r in stored
            }
            changed = [(*key, *state) for key, state in latest.items() if known.get(key) != state]
        else:  # a first backfill of the window: every row is new
            changed = [(*key, *state) for key, state in latest.items()]
        await inserts.start(
            f"{self.database}.observation_vintages",
            ["series_id", "date", "realtime_start", "realtime_end", "value"],
            changed,
        )
        # The current vintage's values also feed `observations`, which every field reads.
        current = {
            (sid, day): (value, since)
            for (sid, day, since), (until, value) in latest.items()
            if until == LAST_DAY and value is not None and day >= FIRST_CURRENT_DAY
        }
        if stored_current:
            have = {(r["series_id"], r["day"]): r["value"] for r in stored_current}
            fresh = [(key, v) for key, v in current.items() if have.get(key) != v[0]]
        else:
            fresh = list(current.items())
        await inserts.start(
            f"{self.database}.observations",
            ["series_id", "date", "value"],
            [(sid, day, value) for (sid, day), (value, _) in fresh],
        )
        return _newest_events(
            (sid, dt.date.fromisoformat(day), value, dt.date.fromisoformat(since))
            for (sid, day), (value, since) in _newest(fresh)
        )

    async def _yields(
        self, rows: Sequence[tuple[dt.date, int, float]], inserts: _Inserts
    ) -> list[DomainEvent]:
        if not rows:
            return []
        stored = await self.store.query(
            f"SELECT date, months, rate FROM {self.database}.par_curve FINAL "
            "WHERE date >= {start:Date} AND date <= {end:Date}",
            {"start": min(r[0] for r in rows), "end": max(r[0] for r in rows)},
        )
        have = {(r["date"], r["months"]): r["rate"] for r in stored}
        latest = {(day, months): rate for day, months, rate in rows}
        fresh = [(key, rate) for key, rate in latest.items() if have.get(key) != rate]
        await inserts.start(
            f"{self.database}.par_curve",
            ["date", "months", "rate"],
            [[day, months, rate] for (day, months), rate in fresh],
        )
        return _newest_events(
            (f"TREASURY_{months}M", day, rate, day) for (day, months), rate in fresh
        )


def _by_record(reason: str) -> None:
    """The batch goes to the record-by-record write, which refuses just its bad records."""
    log.info("observations checked record by record", extra={"reason": reason})


class _Inserts:
    """A write's inserts, started without waiting and all awaited when the `async with` block
    ends: none is left running. An error of the block is the one raised; otherwise the first
    insert's error, if any."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store
        self.running: list[asyncio.Future[None]] = []

    async def __aenter__(self) -> _Inserts:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            await _settled(*self.running)
        else:
            await asyncio.gather(*self.running, return_exceptions=True)

    async def start(self, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
        """Start inserting `rows`; returns once the insert is on the store's own thread."""
        if rows:
            self.running.append(asyncio.ensure_future(self.store.insert(table, columns, rows)))
            await asyncio.sleep(0)  # the task's first step hands the rows to the store


async def _settled(*awaitables: Awaitable[T]) -> list[T]:
    """Every awaitable's result once all have ended (none is left running); the first error,
    if any, raised after that."""
    outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes  # type: ignore[return-value]


def _newest_events(
    values: Any,
) -> list[DomainEvent]:
    """One retained event per series: its newest changed observation."""
    newest: dict[str, tuple[dt.date, float, dt.date]] = {}
    for sid, day, value, start in values:
        if sid not in newest or day > newest[sid][0]:
            newest[sid] = (day, value, start)
    now = time.time()
    return [
        DomainEvent(
            macro_channel(sid),
            encode(
                MacroObservation(
                    series_id=sid,
                    date=day.isoformat(),
                    value=value,
                    realtime_start=start.isoformat(),
                    published_at=now,
                )
            ),
            retain=True,
        )
        for sid, (day, value, start) in sorted(newest.items())
    ]
