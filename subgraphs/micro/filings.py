"""SEC filings and XBRL facts of the companies behind the stocks: records and batched reads.

Filings come from EDGAR's company submissions (one row per accession number); facts from its
XBRL company facts, only the concepts of `CONCEPTS`. Companies restate: a 10-K repeats last
year's revenue beside this year's, so the store keeps every (period, filing) value and a read
keeps, per period, the value of the latest filing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import strawberry

from nexus.stores.analytics import AnalyticsStore, Row
from subgraphs.micro.ddl import INSTANT
from subgraphs.relay import Page

ARCHIVES = "https://www.sec.gov/Archives/edgar/data"
LATEST_FORMS = ("10-K", "10-Q", "8-K")


@strawberry.enum(description="A financial fact from a company's XBRL filings (company facts).")
class FactConcept(enum.Enum):
    REVENUE = strawberry.enum_value(
        "revenue",
        description="Revenue, US dollars, per quarter, year-to-date or fiscal year (us-gaap: "
        "Revenues, RevenueFromContractWithCustomerExcludingAssessedTax and its kin).",
    )
    NET_INCOME = strawberry.enum_value(
        "net_income",
        description="Net income (loss), US dollars, per period (us-gaap:NetIncomeLoss).",
    )
    EARNINGS_PER_SHARE_DILUTED = strawberry.enum_value(
        "earnings_per_share_diluted",
        description="Diluted earnings per share, US dollars per share, per period "
        "(us-gaap:EarningsPerShareDiluted).",
    )
    SHARES_OUTSTANDING = strawberry.enum_value(
        "shares_outstanding",
        description="Common shares outstanding on a day (an instant), shares, as the cover "
        "page of each filing states it (dei:EntityCommonStockSharesOutstanding).",
    )


# The XBRL concepts (taxonomy, name) behind each fact. Revenue moved to
# RevenueFromContractWithCustomer... with ASC 606 (2018): a company's series spans several.
CONCEPTS: dict[FactConcept, tuple[tuple[str, str], ...]] = {
    FactConcept.REVENUE: (
        ("us-gaap", "Revenues"),
        ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
        ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
        ("us-gaap", "SalesRevenueNet"),
    ),
    FactConcept.NET_INCOME: (("us-gaap", "NetIncomeLoss"),),
    FactConcept.EARNINGS_PER_SHARE_DILUTED: (("us-gaap", "EarningsPerShareDiluted"),),
    FactConcept.SHARES_OUTSTANDING: (("dei", "EntityCommonStockSharesOutstanding"),),
}
KEPT_CONCEPTS = frozenset(name for names in CONCEPTS.values() for name in names)


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    symbol: str
    cik: int
    name: str


@dataclass(frozen=True, slots=True)
class FilingRecord:
    symbol: str
    cik: int
    accession: str  # 0001326380-24-000012: filer id, year, sequence
    form: str
    filed: dt.date
    report_date: dt.date | None
    accepted_at: dt.datetime | None
    primary_document: str
    description: str

    @property
    def url(self) -> str:
        """The primary document in EDGAR's archives (the folder is the accession, no dashes)."""
        folder = self.accession.replace("-", "")
        return f"{ARCHIVES}/{self.cik}/{folder}/{self.primary_document}"

    @property
    def index_url(self) -> str:
        folder = self.accession.replace("-", "")
        return f"{ARCHIVES}/{self.cik}/{folder}/{self.accession}-index.htm"


@dataclass(frozen=True, slots=True)
class FactRecord:
    symbol: str
    taxonomy: str
    concept: str
    unit: str  # XBRL unit: USD, shares, USD/shares
    period_start: dt.date | None  # None for an instant (a balance on `period_end`)
    period_end: dt.date
    value: float
    fiscal_year: int | None
    fiscal_period: str  # FY, Q1, Q2, Q3, Q4
    form: str
    filed: dt.date
    accession: str


FILING_COLUMNS = (
    "symbol", "cik", "accession", "form", "filed", "report_date", "accepted_at",
    "primary_document", "description",
)
FACT_COLUMNS = (
    "symbol", "taxonomy", "concept", "unit", "period_start", "period_end", "value",
    "fiscal_year", "fiscal_period", "form", "filed", "accession",
)
_INSTANT = dt.date.fromisoformat(INSTANT)


@dataclass(frozen=True, slots=True)
class FilingsPageKey:
    symbol: str
    forms: tuple[str, ...] | None
    first: int
    after: str | None
    after_key: tuple[str, str] | None  # (filed ISO date, accession) of the cursor


@dataclass(frozen=True, slots=True)
class LatestFilingsKey:
    symbol: str
    forms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FactsPageKey:
    symbol: str
    concept: FactConcept
    first: int
    after: str | None
    after_key: tuple[str, str] | None  # (period_end, period_start) ISO dates of the cursor


def _filing(row: Row) -> FilingRecord:
    return FilingRecord(**{**row, "cik": int(row["cik"])})


def _fact(row: Row) -> FactRecord:
    start = row["period_start"]
    return FactRecord(**{
        **row,
        "period_start": None if start == _INSTANT else start,
        "value": float(row["value"]),
        "fiscal_year": None if row["fiscal_year"] is None else int(row["fiscal_year"]),
    })


class FilingsReader:
    """The reads behind `Stock.cik`, `filings`, `latestFilings` and `facts`."""

    def __init__(self, store: AnalyticsStore, database: str) -> None:
        self.store = store
        self.database = database

    async def companies(self, symbols: Sequence[str]) -> list[CompanyRecord | None]:
        rows = await self.store.query(
            f"SELECT symbol, cik, name FROM {self.database}.companies FINAL "
            "WHERE symbol IN {symbols:Array(String)}",
            {"symbols": sorted(set(symbols))},
        )
        found = {row["symbol"]: CompanyRecord(row["symbol"], int(row["cik"]), row["name"])
                 for row in rows}
        return [found.get(symbol) for symbol in symbols]

    async def latest_filings(self, keys: Sequence[LatestFilingsKey]) -> list[list[FilingRecord]]:
        """Per key, the newest filing of each of its forms, newest first; one query per set of
        forms asked."""
        by_forms: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for key in keys:
            by_forms[key.forms].add(key.symbol)
        found: dict[LatestFilingsKey, list[FilingRecord]] = {}
        for forms, symbols in by_forms.items():
            rows = await self.store.query(
                f"SELECT {', '.join(FILING_COLUMNS)} FROM {self.database}.filings FINAL "
                "WHERE symbol IN {symbols:Array(String)} AND form IN {forms:Array(String)} "
                "ORDER BY symbol, filed DESC, accession DESC LIMIT 1 BY symbol, form",
                {"symbols": sorted(symbols), "forms": list(forms)},
            )
            for row in rows:
                found.setdefault(LatestFilingsKey(row["symbol"], forms), []).append(_filing(row))
        return [found.get(key, []) for key in keys]

    async def filings_pages(self, keys: Sequence[FilingsPageKey]) -> list[Page[FilingRecord]]:
        return list(await asyncio.gather(*(self._filings_page(key) for key in keys)))

    async def _filings_page(self, key: FilingsPageKey) -> Page[FilingRecord]:
        where = ["symbol = {symbol:String}"]
        params: dict[str, object] = {"symbol": key.symbol, "limit": key.first + 1}
        if key.forms is not None:
            where.append("form IN {forms:Array(String)}")
            params["forms"] = list(key.forms)
        if key.after_key is not None:
            where.append("(filed, accession) < ({filed:Date}, {accession:String})")
            params["filed"], params["accession"] = key.after_key
        rows = await self.store.query(
            f"SELECT {', '.join(FILING_COLUMNS)} FROM {self.database}.filings FINAL "
            f"WHERE {' AND '.join(where)} ORDER BY filed DESC, accession DESC "
            "LIMIT {limit:UInt32}",
            params,
        )
        filings = [_filing(row) for row in rows]
        return Page.of(
            [(filing, (filing.filed.isoformat(), filing.accession)) for filing in filings],
            key.first,
            key.after,
        )

    async def facts_pages(self, keys: Sequence[FactsPageKey]) -> list[Page[FactRecord]]:
        return list(await asyncio.gather(*(self._facts_page(key) for key in keys)))

    async def _facts_page(self, key: FactsPageKey) -> Page[FactRecord]:
        """One value per period (start, end), the latest filed; newest period first."""
        concepts = CONCEPTS[key.concept]
        where = [
            "symbol = {symbol:String}",
            "concat(taxonomy, ':', concept) IN {concepts:Array(String)}",
        ]
        params: dict[str, object] = {
            "symbol": key.symbol,
            "concepts": [f"{taxonomy}:{name}" for taxonomy, name in concepts],
            "limit": key.first + 1,
        }
        if key.after_key is not None:
            where.append("(period_end, period_start) < ({end:Date}, {start:Date})")
            params["end"], params["start"] = key.after_key
        rows = await self.store.query(
            f"SELECT {', '.join(FACT_COLUMNS)} FROM {self.database}.facts FINAL "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY period_end DESC, period_start DESC, filed DESC, accession DESC "
            "LIMIT 1 BY period_end, period_start LIMIT {limit:UInt32}",
            params,
        )
        facts = [_fact(row) for row in rows]
        return Page.of(
            [(fact, (fact.period_end.isoformat(), (fact.period_start or _INSTANT).isoformat()))
             for fact in facts],
            key.first,
            key.after,
        )
