"""FRED (Federal Reserve Economic Data, St. Louis Fed): series metadata and observations with
their ALFRED vintages, JSON (https://fred.stlouisfed.org/docs/api/fred/).

    GET /fred/series?series_id=ID&api_key=KEY&file_type=json
        {"seriess": [{"id", "title", "units", "frequency", "last_updated", ...}]}
    GET /fred/series/observations?series_id=ID&realtime_start=1776-07-04
        &realtime_end=9999-12-31&limit=100000&offset=N&file_type=json&api_key=KEY
        {"count": N, "offset": N, "limit": N, "observations": [
            {"realtime_start", "realtime_end", "date", "value"}, ...]}   (value "." = none)

Every fetch asks for the whole real-time period, so each row is one vintage as ALFRED keeps
it: `value` was the published figure from `realtime_start` to `realtime_end`. A series whose
`last_updated` has not changed since the last run is skipped (one request, not a page of
observations); `--since`/`--until` refetch regardless. FRED allows about 120 requests a
minute per key: the client keeps under it and backs off on 429.

Environment: FRED_API_KEY (required; never logged), NEXUS_FRED_SERIES (comma-separated ids;
default below), NEXUS_FRED_PAGE_SIZE (observations per request, at most 100000).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from nexus.assembly.ingest.errors import BadPayload, SourceRefused
from nexus.assembly.ingest.http import Rate, SourceHttp
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.sinks.macro import OBSERVATION, SERIES, MacroSink
from nexus.assembly.ingest.source import Connector, SourceConfig

# The liquidity and curve series the macro fields use first; NEXUS_FRED_SERIES widens it.
DEFAULT_SERIES = (
    "WALCL",  # Fed total assets, millions USD, weekly (Wednesday)
    "RRPONTSYD",  # overnight reverse repo, billions USD, daily
    "WTREGEN",  # Treasury General Account, billions USD, weekly (Wednesday)
    "DGS2",
    "DGS10",
    "DGS30",
    "T10Y2Y",
    "FEDFUNDS",
    "CPIAUCSL",
    "UNRATE",
    "GDP",
)
ALL_TIME = ("1776-07-04", "9999-12-31")  # FRED's own bounds of the real-time period
PAGE_LIMIT = 100_000  # FRED's maximum `limit`


class FredSource:
    name = "fred"

    def __init__(self, config: SourceConfig) -> None:
        self.api_key = config.env.get("FRED_API_KEY", "")
        listed = config.env.get("NEXUS_FRED_SERIES", "")
        self.series = tuple(s.strip() for s in listed.split(",") if s.strip()) or DEFAULT_SERIES
        self.page_size = min(PAGE_LIMIT, int(config.env.get("NEXUS_FRED_PAGE_SIZE", PAGE_LIMIT)))

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        if not self.api_key:
            raise SourceRefused(
                401, "FRED_API_KEY is not set (https://fred.stlouisfed.org/docs/api/api_key.html)"
            )
        done: dict[str, Any] = dict(cursor.get("series", {}))
        for series_id in window.only or self.series:
            scope = Window(window.since, window.until, (series_id,)).to_json()
            try:
                async for batch in self._series(http, series_id, done, window):
                    yield batch
            except (BadPayload, SourceRefused) as error:
                reason = error.reason if isinstance(error, BadPayload) else str(error)
                request = error.request
                excerpt = error.excerpt if isinstance(error, BadPayload) else ""
                letter = DeadLetter(
                    self.name, "fetch", f"{series_id}: {reason}",
                    {"request": request, "excerpt": excerpt}, scope,
                )  # fmt: skip
                yield Batch([], {"series": dict(done)}, [letter])

    async def _series(
        self, http: SourceHttp, series_id: str, done: dict[str, Any], window: Window
    ) -> AsyncIterator[Batch]:
        params = {"series_id": series_id, "api_key": self.api_key, "file_type": "json"}
        path = "/fred/series"
        answer = await http.get_json(path, params)
        info = _first_series(answer, http.describe(path, params))
        backfill = window.since is not None or window.until is not None
        if not backfill and done.get(series_id, {}).get("last_updated") == info["last_updated"]:
            return  # nothing published since the last run
        header = Record(
            self.name,
            SERIES,
            series_id,
            {key: info[key] for key in ("id", "title", "units", "frequency")},
        )
        path = "/fred/series/observations"
        offset = 0
        records: list[Record] = [header]
        while True:
            page_params = {
                **params,
                "realtime_start": ALL_TIME[0],
                "realtime_end": ALL_TIME[1],
                "observation_start": window.since.date().isoformat() if window.since else None,
                "observation_end": window.until.date().isoformat() if window.until else None,
                "sort_order": "asc",
                "limit": self.page_size,
                "offset": offset,
            }
            page_params = {k: v for k, v in page_params.items() if v is not None}
            page = await http.get_json(path, page_params)
            observations, count = _observations(page, series_id, http.describe(path, page_params))
            name = self.name
            records += [
                Record(name, OBSERVATION, f"{series_id}|{row['date']}|{row['realtime_start']}", row)
                for row in observations
            ]
            offset += len(observations)
            last = not observations or offset >= count
            if last:
                # The series is complete: only now may the cursor say so.
                done[series_id] = {"last_updated": info["last_updated"]}
            yield Batch(records, {"series": dict(done)})
            records = []
            if last:
                return


def _first_series(answer: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        info = answer["seriess"][0]
        fields = ("id", "title", "units", "frequency", "last_updated")
        if not all(isinstance(info[key], str) for key in fields):
            raise TypeError("a metadata field is not a string")
    except (KeyError, IndexError, TypeError) as error:
        raise BadPayload(f"unexpected series metadata ({error!r})", request=request) from None
    return dict(info)


def _observations(
    page: Any, series_id: str, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """The page's rows as record payloads; the sink checks each field's format."""
    try:
        count = int(page["count"])
        rows = [
            {
                "series_id": series_id,
                "date": row["date"],
                "realtime_start": row["realtime_start"],
                "realtime_end": row["realtime_end"],
                "value": row["value"],
            }
            for row in page["observations"]
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise BadPayload(f"unexpected observations page ({error!r})", request=request) from None
    return rows, count


def _fake() -> Any:
    from nexus.assembly.ingest.fakes.fred import app

    return app()


CONNECTORS = [
    Connector(
        name="fred",
        domain="macro",
        description="FRED/ALFRED series and observations with vintages (JSON API)",
        base_url="https://api.stlouisfed.org",
        source=FredSource,
        sink=MacroSink,
        rate=Rate(120, 60),
        interval_seconds=6 * 3600,
        secrets=("api_key",),
        fake=_fake,
    )
]
