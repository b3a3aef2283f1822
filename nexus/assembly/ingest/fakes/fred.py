"""A fake FRED API: the demo dataset's series (nexus/demo/data), served as FRED's JSON.

Paths, parameters, pagination (`limit`/`offset`/`count`), the real-time period filter and the
error bodies are FRED's (https://fred.stlouisfed.org/docs/api/fred/). The observation values
are the real published ones; their VINTAGES are made up for the tests, since the demo dataset
keeps only the current values: a monthly or quarterly observation gets a first release 5 per
mille lower, published a month after the period, and the current value published a month
later (realtime_end 9999-12-31); a daily or weekly one is published once, the next day.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections import defaultdict
from functools import cache
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nexus.demo import DEMO_DATA

FOREVER = "9999-12-31"
NO_KEY = (
    "Bad Request.  Variable api_key is not set.  Read "
    "https://fred.stlouisfed.org/docs/api/api_key.html for more information."
)
NO_SERIES = "Bad Request.  The series does not exist."


@cache
def _dataset() -> tuple[dict[str, dict[str, str]], dict[str, list[tuple[str, str]]]]:
    with gzip.open(DEMO_DATA / "fred_series.csv.gz", "rt", newline="") as file:
        series = {row["id"]: row for row in csv.DictReader(file)}
    observations: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with gzip.open(DEMO_DATA / "fred_observations.csv.gz", "rt", newline="") as file:
        for row in csv.DictReader(file):
            observations[row["series_id"]].append((row["date"], row["value"]))
    return series, dict(observations)


@cache
def _vintages(series_id: str) -> list[dict[str, str]]:
    series, observations = _dataset()
    revised = series[series_id]["frequency"] in ("Monthly", "Quarterly")
    rows = []
    for date, value in observations.get(series_id, []):
        day = dt.date.fromisoformat(date)
        if revised:
            first = _months_after(day, 2 if series[series_id]["frequency"] == "Monthly" else 4)
            second = _months_after(first, 1)
            rows.append(
                {
                    "realtime_start": first.isoformat(),
                    "realtime_end": (second - dt.timedelta(days=1)).isoformat(),
                    "date": date,
                    "value": f"{float(value) * 0.995:.6g}",
                }
            )
            rows.append(
                {
                    "realtime_start": second.isoformat(),
                    "realtime_end": FOREVER,
                    "date": date,
                    "value": value,
                }
            )
        else:
            published = (day + dt.timedelta(days=1)).isoformat()
            rows.append(
                {"realtime_start": published, "realtime_end": FOREVER, "date": date, "value": value}
            )
    return rows


def _months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


class Answer(JSONResponse):
    """JSON through orjson: the fake should not be the slow end of a benchmark."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error_code": status, "error_message": message}, status_code=status)


def _known(request: Request) -> tuple[str, JSONResponse | None]:
    if not request.query_params.get("api_key"):
        return "", _error(NO_KEY)
    series_id = request.query_params.get("series_id", "")
    if series_id not in _dataset()[0]:
        return series_id, _error(NO_SERIES)
    return series_id, None


async def series(request: Request) -> JSONResponse:
    series_id, refused = _known(request)
    if refused is not None:
        return refused
    info = _dataset()[0][series_id]
    dates = [date for date, _ in _dataset()[1].get(series_id, [])]
    today = dt.date.today().isoformat()
    return JSONResponse(
        {
            "realtime_start": today,
            "realtime_end": today,
            "seriess": [
                {
                    "id": series_id,
                    "realtime_start": today,
                    "realtime_end": today,
                    "title": info["title"],
                    "observation_start": dates[0] if dates else "",
                    "observation_end": dates[-1] if dates else "",
                    "frequency": info["frequency"],
                    "frequency_short": info["frequency"][:1],
                    "units": info["units"],
                    "units_short": info["units"],
                    "seasonal_adjustment": "Not Seasonally Adjusted",
                    "seasonal_adjustment_short": "NSA",
                    "last_updated": f"{dates[-1] if dates else today} 07:51:03-05",
                    "popularity": 50,
                    "notes": "Served by the Nexus-Alpha fake FRED from the demo dataset.",
                }
            ],
        }
    )


async def observations(request: Request) -> JSONResponse:
    series_id, refused = _known(request)
    if refused is not None:
        return refused
    query = request.query_params
    try:
        limit = int(query.get("limit", "100000"))
        offset = int(query.get("offset", "0"))
    except ValueError:
        return _error("Bad Request.  Variable limit is not an integer.")
    if not 1 <= limit <= 100_000:
        return _error("Bad Request.  Variable limit is not between 1 and 100000.")
    today = dt.date.today().isoformat()
    real_start = query.get("realtime_start", today)
    real_end = query.get("realtime_end", today)
    first = query.get("observation_start", "1776-07-04")
    last = query.get("observation_end", FOREVER)
    rows = [
        row
        if real_start <= row["realtime_start"] and row["realtime_end"] <= real_end
        else {
            **row,
            # FRED clips each vintage to the real-time period asked for.
            "realtime_start": max(row["realtime_start"], real_start),
            "realtime_end": min(row["realtime_end"], real_end),
        }
        for row in _vintages(series_id)
        if first <= row["date"] <= last
        and row["realtime_start"] <= real_end
        and row["realtime_end"] >= real_start
    ]
    return Answer(
        {
            "realtime_start": real_start,
            "realtime_end": real_end,
            "observation_start": first,
            "observation_end": last,
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(rows),
            "offset": offset,
            "limit": limit,
            "observations": rows[offset : offset + limit],
        }
    )


def app() -> Any:
    return Starlette(
        routes=[
            Route("/fred/series", series),
            Route("/fred/series/observations", observations),
        ]
    )
