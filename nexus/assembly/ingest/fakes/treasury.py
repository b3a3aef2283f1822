"""A fake Treasury yield-curve XML feed: the demo dataset's par curve (real published rates,
nexus/demo/data), served in the feed's OData Atom layout, one calendar year per request."""

from __future__ import annotations

import csv
import gzip
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nexus.demo import DEMO_DATA

COLUMNS = {
    "1 Mo": "BC_1MONTH",
    "2 Mo": "BC_2MONTH",
    "3 Mo": "BC_3MONTH",
    "4 Mo": "BC_4MONTH",
    "6 Mo": "BC_6MONTH",
    "1 Yr": "BC_1YEAR",
    "2 Yr": "BC_2YEAR",
    "3 Yr": "BC_3YEAR",
    "5 Yr": "BC_5YEAR",
    "7 Yr": "BC_7YEAR",
    "10 Yr": "BC_10YEAR",
    "20 Yr": "BC_20YEAR",
    "30 Yr": "BC_30YEAR",
}
HEAD = (
    '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n'
    '<feed xml:base="https://home.treasury.gov/resource-center/data-chart-center/interest-rates/"'
    ' xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"'
    ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
    ' xmlns="http://www.w3.org/2005/Atom">'
    '<title type="text">DailyTreasuryYieldCurveRateData</title>'
    "<id>https://home.treasury.gov/resource-center/data-chart-center/interest-rates/pages/xml</id>"
    "<updated>{updated}</updated>"
)


@cache
def _rows() -> list[dict[str, str]]:
    with gzip.open(DEMO_DATA / "treasury_par_curve.csv.gz", "rt", newline="") as file:
        return list(csv.DictReader(file))


def _entry(number: int, row: dict[str, str]) -> str:
    properties = [
        f'<d:Id m:type="Edm.Int32">{number}</d:Id>',
        f'<d:NEW_DATE m:type="Edm.DateTime">{row["date"]}T00:00:00</d:NEW_DATE>',
    ]
    for column, name in COLUMNS.items():
        value = row.get(column, "")
        if value:
            properties.append(f'<d:{name} m:type="Edm.Double">{escape(value)}</d:{name}>')
        else:
            properties.append(f'<d:{name} m:type="Edm.Double" m:null="true" />')
    return (
        f"<entry><id>DailyTreasuryYieldCurveRateData({number})</id>"
        '<title type="text"></title><updated>2025-01-02T00:00:00Z</updated>'
        "<author><name /></author>"
        '<content type="application/xml"><m:properties>'
        + "".join(properties)
        + "</m:properties></content></entry>"
    )


async def feed(request: Request) -> Response:
    if request.query_params.get("data") != "daily_treasury_yield_curve":
        return Response("<html><body>Page not found</body></html>", 404, media_type="text/html")
    year = request.query_params.get("field_tdr_date_value", "")
    entries = [
        _entry(number, row)
        for number, row in enumerate(_rows(), start=1)
        if row["date"].startswith(f"{year}-")
    ]
    body = HEAD.format(updated=f"{year}-12-31T00:00:00Z") + "".join(entries) + "</feed>"
    return Response(body, media_type="application/atom+xml")


def app() -> Any:
    return Starlette(
        routes=[Route("/resource-center/data-chart-center/interest-rates/pages/xml", feed)]
    )
