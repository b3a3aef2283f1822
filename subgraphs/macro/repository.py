"""Every read of the macro store, batched: one query per DataLoader batch."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nexus.errors import BadUserInput
from nexus.stores.analytics import AnalyticsStore
from subgraphs.macro.ddl import DATABASE


def max_observations() -> int:
    """Observations one request may return across all its series (NEXUS_MAX_OBSERVATIONS)."""
    return int(os.environ.get("NEXUS_MAX_OBSERVATIONS", "20000"))


def too_many_observations(limit: int) -> BadUserInput:
    return BadUserInput(
        f"This request asks for more than {limit:,} observations; narrow `from`/`to` or ask "
        "for fewer series, and page through longer histories.",
        argument="from",
    )


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    id: str
    title: str
    units: str
    frequency: str


@dataclass(frozen=True, slots=True)
class ObservationRange:
    series_id: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    date: dt.date
    value: float


OFF_LOOP_ROWS = 2_000  # observation rows above this become records in a worker thread


def _records_by_range(
    rows: list[dict[str, Any]], start: dt.date | None, end: dt.date | None
) -> dict[ObservationRange, list[ObservationRecord]]:
    """One window's rows (ordered by series, date) as each series' records."""
    grouped: dict[ObservationRange, list[ObservationRecord]] = defaultdict(list)
    for row in rows:
        key = ObservationRange(row["series_id"], start, end)
        grouped[key].append(ObservationRecord(row["date"], row["value"]))
    return grouped


@dataclass(frozen=True, slots=True)
class CurveRecord:
    date: dt.date
    points: list[tuple[int, float]]  # (months, rate in percent), shortest tenor first


class MacroRepository:
    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    async def series_by_id(self, ids: Sequence[str]) -> list[SeriesRecord | None]:
        rows = await self.store.query(
            f"SELECT id, title, units, frequency FROM {DATABASE}.series FINAL "
            "WHERE id IN {ids:Array(String)}",
            {"ids": sorted(set(ids))},
        )
        found = {row["id"]: SeriesRecord(**row) for row in rows}
        return [found.get(series_id) for series_id in ids]

    async def all_series(self) -> list[SeriesRecord]:
        rows = await self.store.query(
            f"SELECT id, title, units, frequency FROM {DATABASE}.series FINAL ORDER BY id"
        )
        return [SeriesRecord(**row) for row in rows]

    async def observations(
        self, ranges: Sequence[ObservationRange]
    ) -> list[list[ObservationRecord]]:
        """One query per distinct (from, to) window, whatever the number of series.

        A batch never reads more than `max_observations()` rows (plus one, to tell): past that
        the whole batch is refused, before rows become Python objects on the event loop."""
        limit = max_observations()
        read = 0
        windows: dict[tuple[dt.date | None, dt.date | None], set[str]] = defaultdict(set)
        for key in ranges:
            windows[(key.start, key.end)].add(key.series_id)
        found: dict[ObservationRange, list[ObservationRecord]] = {}
        for (start, end), ids in windows.items():
            rows = await self.store.query(
                f"SELECT series_id, date, value FROM {DATABASE}.observations "
                "WHERE series_id IN {ids:Array(String)} "
                "AND date >= {start:Date} AND date <= {end:Date} ORDER BY series_id, date "
                "LIMIT {limit:UInt64}",
                {
                    "ids": sorted(ids),
                    "start": start or dt.date(1970, 1, 1),
                    "end": end or dt.date(2149, 6, 1),
                    "limit": limit - read + 1,
                },
            )
            read += len(rows)
            if read > limit:
                raise too_many_observations(limit)
            if len(rows) > OFF_LOOP_ROWS:
                # 18,000 rows took 0.1-0.2 s to become records: every other client waited.
                grouped = await asyncio.to_thread(_records_by_range, rows, start, end)
            else:
                grouped = _records_by_range(rows, start, end)
            found.update(grouped)
        return [found.get(key, []) for key in ranges]

    async def latest_observations(self, ids: Sequence[str]) -> list[ObservationRecord | None]:
        rows = await self.store.query(
            # Aliases must not shadow `date`/`value`: ClickHouse substitutes aliases in expressions.
            f"SELECT series_id, max(date) AS last_date, argMax(value, date) AS last_value "
            f"FROM {DATABASE}.observations WHERE series_id IN {{ids:Array(String)}} "
            "GROUP BY series_id",
            {"ids": sorted(set(ids))},
        )
        found = {
            row["series_id"]: ObservationRecord(row["last_date"], row["last_value"]) for row in rows
        }
        return [found.get(series_id) for series_id in ids]

    async def par_curves(self, days: Sequence[dt.date]) -> list[CurveRecord | None]:
        """For each day, the curve published that day or, failing that, the last day before it."""
        rows = await self.store.query(
            "SELECT m.day AS day, c.date AS date, c.months AS months, c.rate AS rate FROM ("
            "  SELECT a.day AS day, d.date AS curve_date"
            "  FROM (SELECT arrayJoin({days:Array(Date)}) AS day, 1 AS k) AS a"
            f"  ASOF INNER JOIN (SELECT DISTINCT date, 1 AS k FROM {DATABASE}.par_curve) AS d"
            "  ON a.k = d.k AND a.day >= d.date"
            f") AS m INNER JOIN {DATABASE}.par_curve AS c ON c.date = m.curve_date "
            "ORDER BY day, months",
            {"days": sorted(set(days))},
        )
        curves: dict[dt.date, CurveRecord] = {}
        for row in rows:
            curve = curves.setdefault(row["day"], CurveRecord(row["date"], []))
            curve.points.append((row["months"], row["rate"]))
        return [curves.get(day) for day in days]

    async def par_curves_between(self, start: dt.date, end: dt.date) -> list[CurveRecord]:
        """Every curve published from `start` to `end` inclusive, oldest first."""
        rows = await self.store.query(
            f"SELECT date, months, rate FROM {DATABASE}.par_curve "
            "WHERE date >= {start:Date} AND date <= {end:Date} ORDER BY date, months",
            {"start": start, "end": end},
        )
        curves: dict[dt.date, CurveRecord] = {}
        for row in rows:
            curves.setdefault(row["date"], CurveRecord(row["date"], [])).points.append(
                (row["months"], row["rate"])
            )
        return list(curves.values())


@dataclass(frozen=True, slots=True)
class VintageRange:
    """Observations of `series_id` from `start` to `end` as they were published on `as_of`."""

    series_id: str
    start: dt.date | None
    end: dt.date | None
    as_of: dt.date


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    realtime_start: dt.date
    realtime_end: dt.date  # 2149-06-06 (the last ClickHouse Date) while still current
    value: float | None  # None: no value was published in that vintage


class VintageRepository:
    """ALFRED vintages (`observation_vintages`, written by `nexus ingest fred`)."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    async def with_vintages(self, ids: Sequence[str]) -> list[bool]:
        rows = await self.store.query(
            f"SELECT DISTINCT series_id FROM {DATABASE}.observation_vintages "
            "WHERE series_id IN {ids:Array(String)}",
            {"ids": sorted(set(ids))},
        )
        found = {row["series_id"] for row in rows}
        return [series_id in found for series_id in ids]

    async def as_of(self, ranges: Sequence[VintageRange]) -> list[list[ObservationRecord]]:
        """One query per range (an as-of read is rare next to the current values); bounded like
        `MacroRepository.observations`."""
        limit = max_observations()
        read = 0
        found: list[list[ObservationRecord]] = []
        for key in ranges:
            rows = await self.store.query(
                # The vintage in force on as_of: realtime_start <= as_of <= realtime_end.
                "SELECT date, argMax(value, realtime_start) AS known "
                f"FROM {DATABASE}.observation_vintages FINAL "
                "WHERE series_id = {id:String} AND date >= {start:Date} AND date <= {end:Date} "
                "AND realtime_start <= {as_of:Date} AND realtime_end >= {as_of:Date} "
                "GROUP BY date HAVING known IS NOT NULL ORDER BY date LIMIT {limit:UInt64}",
                {
                    "id": key.series_id,
                    "start": key.start or dt.date(1970, 1, 1),
                    "end": key.end or dt.date(2149, 6, 1),
                    "as_of": key.as_of,
                    "limit": limit - read + 1,
                },
            )
            read += len(rows)
            if read > limit:
                raise too_many_observations(limit)
            found.append([ObservationRecord(row["date"], row["known"]) for row in rows])
        return found

    async def revisions(self, series_id: str, date: dt.date) -> list[RevisionRecord]:
        rows = await self.store.query(
            "SELECT realtime_start, realtime_end, value "
            f"FROM {DATABASE}.observation_vintages FINAL "
            "WHERE series_id = {id:String} AND date = {date:Date} ORDER BY realtime_start "
            "LIMIT 1000",
            {"id": series_id, "date": date},
        )
        return [RevisionRecord(**row) for row in rows]

    async def curve_spreads(
        self, long: int, short: int, start: dt.date, end: dt.date
    ) -> list[tuple[dt.date, float]]:
        """(date, long rate - short rate in percentage points) on every day both are published."""
        rows = await self.store.query(
            "SELECT date, sumIf(rate, months = {long:UInt16}) "
            "- sumIf(rate, months = {short:UInt16}) AS spread "
            f"FROM {DATABASE}.par_curve FINAL "
            "WHERE months IN ({long:UInt16}, {short:UInt16}) "
            "AND date >= {start:Date} AND date <= {end:Date} "
            "GROUP BY date HAVING count() = 2 ORDER BY date",
            {"long": long, "short": short, "start": start, "end": end},
        )
        return [(row["date"], row["spread"]) for row in rows]
