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

import datetime as dt
import math
import re
import time
from collections.abc import Sequence
from typing import Any

from nexus.assembly.ingest.records import DomainEvent, Record, Written
from nexus.assembly.ingest.schema import ensure
from nexus.events import MacroObservation, encode, macro_channel
from nexus.stores.analytics import AnalyticsStore
from subgraphs.macro.ddl import statements

SERIES = "macro.series"
OBSERVATION = "macro.observation"
PAR_YIELD = "macro.par_yield"

IN_WINDOW = "series_id IN {ids:Array(String)} AND date >= {start:Date} AND date <= {end:Date}"
FOREVER = dt.date(2149, 6, 6)  # ClickHouse's last Date: FRED's 9999-12-31, "still current"


LAST_DAY = FOREVER.isoformat()
FIRST_CURRENT_DAY = "1970-01-01"  # `observations.date` is a Date: vintages keep earlier days
ISO_DAY = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
ISO_DAYS = re.compile(rf"(?:{ISO_DAY.pattern}\n)*{ISO_DAY.pattern}")  # joined by newlines
VintageRow = tuple[str, str, str, str, float | None]  # series, date, since, until: YYYY-MM-DD


def fred_date(text: str) -> dt.date:
    day = dt.date.fromisoformat(text)
    return min(day, FOREVER)


def iso_day(text: Any) -> str:
    """`text` if it is a YYYY-MM-DD day (checked cheaply: no date object is made)."""
    if not isinstance(text, str) or ISO_DAY.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    return text


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
        # The observations' dates are checked a column at a time (`_all_days`); only a batch
        # with a bad one is parsed again, record by record, to reject just those records.
        series, vintages, yields, rejected = self._parse(records, check_days=False)
        if not _all_days(vintages):
            series, vintages, yields, rejected = self._parse(records, check_days=True)
        events: list[DomainEvent] = []
        await self._series(series)
        events += await self._observations(vintages)
        events += await self._yields(yields)
        return Written(events, rejected, len(series) + len(vintages) + len(yields))

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

    async def _series(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        if not rows:
            return
        stored = await self.store.query(
            f"SELECT id, title, units, frequency FROM {self.database}.series FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": sorted({row[0] for row in rows})},
        )
        known = {(r["id"], r["title"], r["units"], r["frequency"]) for r in stored}
        new = list(dict.fromkeys(row for row in rows if row not in known))
        if new:
            await self.store.insert(
                f"{self.database}.series", ["id", "title", "units", "frequency"], new
            )

    async def _observations(self, rows: Sequence[VintageRow]) -> list[DomainEvent]:
        """Dates stay YYYY-MM-DD strings from the payload to the INSERT (ClickHouse parses
        them): a backfill's hundreds of thousands of rows never become `date` objects."""
        if not rows:
            return []
        window = {
            "ids": sorted({row[0] for row in rows}),
            "start": min(row[1] for row in rows),
            "end": max(row[1] for row in rows),
        }
        stored = await self.store.query(
            "SELECT series_id, toString(date) AS day, toString(realtime_start) AS since, "
            f"toString(realtime_end) AS until, value FROM {self.database}.observation_vintages "
            f"FINAL WHERE {IN_WINDOW}",
            window,
        )
        known = {(r["series_id"], r["day"], r["since"]): (r["until"], r["value"]) for r in stored}
        latest: dict[tuple[str, str, str], tuple[str, float | None]] = {}
        for sid, day, since, until, value in rows:  # the last of duplicates in a batch wins
            latest[(sid, day, since)] = (until if until < LAST_DAY else LAST_DAY, value)
        changed = [(*key, *state) for key, state in latest.items() if known.get(key) != state]
        if changed:
            await self.store.insert(
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
        stored_current = await self.store.query(
            "SELECT series_id, toString(date) AS day, value "
            f"FROM {self.database}.observations FINAL WHERE {IN_WINDOW}",
            window,
        )
        have = {(r["series_id"], r["day"]): r["value"] for r in stored_current}
        fresh = [(key, v) for key, v in current.items() if have.get(key) != v[0]]
        if fresh:
            await self.store.insert(
                f"{self.database}.observations",
                ["series_id", "date", "value"],
                [(sid, day, value) for (sid, day), (value, _) in fresh],
            )
        return _newest_events(
            (sid, dt.date.fromisoformat(day), value, dt.date.fromisoformat(since))
            for (sid, day), (value, since) in _newest(fresh)
        )

    async def _yields(self, rows: Sequence[tuple[dt.date, int, float]]) -> list[DomainEvent]:
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
        if fresh:
            await self.store.insert(
                f"{self.database}.par_curve",
                ["date", "months", "rate"],
                [[day, months, rate] for (day, months), rate in fresh],
            )
        return _newest_events(
            (f"TREASURY_{months}M", day, rate, day) for (day, months), rate in fresh
        )


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
