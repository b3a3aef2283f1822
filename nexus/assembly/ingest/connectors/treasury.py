"""US Treasury daily par yield curve rates, from Treasury's published XML feed (OData Atom):

    GET /resource-center/data-chart-center/interest-rates/pages/xml
        ?data=daily_treasury_yield_curve&field_tdr_date_value=YEAR
    <feed xmlns="http://www.w3.org/2005/Atom" ...><entry><content type="application/xml">
      <m:properties><d:NEW_DATE m:type="Edm.DateTime">2024-01-02T00:00:00</d:NEW_DATE>
      <d:BC_1MONTH m:type="Edm.Double">5.55</d:BC_1MONTH> ... <d:BC_30YEAR ...>4.18</d:BC_30YEAR>
    </m:properties></content></entry>...</feed>

One request per calendar year (the feed's page), oldest first. XML rather than the CSV of the
same data because a cut XML document cannot parse, while a CSV cut at a line end looks whole.
Tenors that are not a whole number of months (the 6-week bill since 2025, BC_1_5MONTH) are
not stored: the curve table keys tenors by months. Rates are percent.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

from nexus.assembly.ingest.errors import BadPayload
from nexus.assembly.ingest.http import Rate, SourceHttp
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.sinks.macro import PAR_YIELD, MacroSink
from nexus.assembly.ingest.source import Connector, SourceConfig

PATH = "/resource-center/data-chart-center/interest-rates/pages/xml"
DATA_NS = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
TENOR = re.compile(r"BC_(\d+)(MONTH|YEAR)$")
FIRST_YEAR = 1990  # the feed starts on 1990-01-02


class TreasurySource:
    name = "treasury"

    def __init__(self, config: SourceConfig) -> None:
        self.today = dt.date.today

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        through = dt.date.fromisoformat(cursor["through"]) if cursor.get("through") else None
        if window.since is not None:
            start = window.since.date()
        elif through is not None:
            start = through + dt.timedelta(days=1)
        else:
            start = dt.date(FIRST_YEAR, 1, 1)
        end = window.until.date() if window.until else self.today()
        for year in range(start.year, end.year + 1):
            params = {"data": "daily_treasury_yield_curve", "field_tdr_date_value": year}
            try:
                text = await http.get_text(PATH, params)
                curves = parse_feed(text, http.describe(PATH, params))
            except BadPayload as error:
                scope = Window(
                    dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year, 12, 31, tzinfo=dt.UTC)
                )
                letter = DeadLetter(
                    self.name, "fetch", f"{year}: {error.reason}",
                    {"request": error.request, "excerpt": error.excerpt}, scope.to_json(),
                )  # fmt: skip
                # The cursor stays where it was: a later run (or the replay) fetches the year.
                yield Batch([], _cursor(through), [letter])
                return
            records = [
                Record(
                    self.name,
                    PAR_YIELD,
                    f"{day.isoformat()}|{months}",
                    {"date": day.isoformat(), "months": months, "rate": rate},
                )
                for day, points in curves
                if start <= day <= end
                for months, rate in points
            ]
            days = [day for day, _ in curves if start <= day <= end]
            if days:
                through = max(through or days[-1], max(days))
            yield Batch(records, _cursor(through))


def _cursor(through: dt.date | None) -> Cursor:
    return {"through": through.isoformat()} if through else {}


def parse_feed(text: str, request: dict[str, Any]) -> list[tuple[dt.date, list[tuple[int, float]]]]:
    """(day, [(months, rate)]) for each entry of the feed, oldest first."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise BadPayload(f"not XML ({error})", request=request, excerpt=text) from None
    if root.tag != f"{ATOM_NS}feed":
        raise BadPayload(f"not an Atom feed ({root.tag})", request=request, excerpt=text)
    curves = []
    for properties in root.iter(
        "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}properties"
    ):
        day: dt.date | None = None
        points = []
        for item in properties:
            name = item.tag.removeprefix(DATA_NS)
            value = (item.text or "").strip()
            if name == "NEW_DATE":
                try:
                    day = dt.datetime.fromisoformat(value).date()
                except ValueError:
                    raise BadPayload(f"bad NEW_DATE {value!r}", request=request) from None
                continue
            match = TENOR.match(name)
            if match is None or not value:
                continue  # BC_30YEARDISPLAY, BC_1_5MONTH, empty tenors (not yet issued)
            try:
                rate = float(value)
            except ValueError:
                raise BadPayload(f"bad rate {name}={value!r}", request=request) from None
            months = int(match[1]) * (12 if match[2] == "YEAR" else 1)
            points.append((months, rate))
        if day is None:
            raise BadPayload("an entry without NEW_DATE", request=request)
        curves.append((day, sorted(points)))
    return sorted(curves)


def _fake() -> Any:
    from nexus.assembly.ingest.fakes.treasury import app

    return app()


CONNECTORS = [
    Connector(
        name="treasury",
        domain="macro",
        description="US Treasury daily par yield curve (XML feed)",
        base_url="https://home.treasury.gov",
        source=TreasurySource,
        sink=MacroSink,
        rate=Rate(5, 1),  # no published limit: stay polite
        interval_seconds=6 * 3600,
        fake=_fake,
    )
]
