"""GraphQL types of a company's SEC record: its CIK, filings and XBRL facts, on `Stock`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import BadUserInput
from subgraphs.micro.filings import (
    LATEST_FORMS,
    FactConcept,
    FactRecord,
    FactsPageKey,
    FilingRecord,
    FilingsPageKey,
    LatestFilingsKey,
)
from subgraphs.micro.loaders import MicroContext
from subgraphs.relay import (
    After,
    First,
    Page,
    PageInfo,
    checked_first,
    connection_sized,
    date_part,
    decode_cursor,
    encode_cursor,
    page_info,
    text_part,
)

MAX_FORMS = 10
Forms = Annotated[
    list[str] | None,
    strawberry.argument(
        description="Only filings of these SEC form types (exact, e.g. 10-K, 10-Q, 8-K, 10-K/A, "
        "20-F); null for every form."
    ),
]


@strawberry.type(description="A filing with the SEC (EDGAR), as its company submissions list it.")
class Filing:
    accession_number: str = strawberry.field(
        description="EDGAR accession number, e.g. 0001326380-24-000012 (filer id, year, "
        "sequence): unique per filing."
    )
    form: str = strawberry.field(description="SEC form type: 10-K, 10-Q, 8-K, 10-K/A, 20-F ...")
    filed: dt.date = strawberry.field(description="Day the filing was made (filingDate).")
    report_date: dt.date | None = strawberry.field(
        description="Last day of the period the filing reports on; null where none (an 8-K "
        "event date may be absent)."
    )
    accepted_at: dt.datetime | None = strawberry.field(
        description="When EDGAR accepted the filing (UTC); null where not given."
    )
    primary_document: str = strawberry.field(
        description="File name of the filing's main document, e.g. gme-20240203.htm."
    )
    description: str = strawberry.field(
        description="EDGAR's short description of the main document; may be empty."
    )
    document_url: str = strawberry.field(
        description="URL of the main document in EDGAR's archives (www.sec.gov)."
    )
    index_url: str = strawberry.field(
        description="URL of the filing's index page in EDGAR's archives, listing every document."
    )


def filing_from(record: FilingRecord) -> Filing:
    return Filing(
        accession_number=record.accession,
        form=record.form,
        filed=record.filed,
        report_date=record.report_date,
        accepted_at=record.accepted_at,
        primary_document=record.primary_document,
        description=record.description,
        document_url=record.url,
        index_url=record.index_url,
    )


@strawberry.type(description="A filing and its cursor in a list of filings.")
class FilingEdge:
    node: Filing = strawberry.field(description="The filing.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this filing.")


@strawberry.type(description="A page of filings, newest first (Relay connection).")
class FilingConnection:
    edges: list[FilingEdge] = strawberry.field(description="The filings of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursors.")


@strawberry.type(
    description="One reported value of a financial fact for one period: for each period the "
    "value of the latest filing that reports it (companies restate)."
)
class Fact:
    value: float = strawberry.field(
        description="The value, in `unit`: US dollars for revenue and net income, US dollars "
        "per share for earnings per share, shares for shares outstanding."
    )
    unit: str = strawberry.field(description="XBRL unit of `value`: USD, USD/shares or shares.")
    concept: str = strawberry.field(
        description="The XBRL concept reported, e.g. us-gaap:Revenues or "
        "dei:EntityCommonStockSharesOutstanding."
    )
    period_start: dt.date | None = strawberry.field(
        description="First day of the period the value covers; null for a value at an instant "
        "(shares outstanding on `periodEnd`)."
    )
    period_end: dt.date = strawberry.field(
        description="Last day of the period, or the instant, the value is for."
    )
    fiscal_year: int | None = strawberry.field(
        description="Fiscal year of the filing that reported it (fy); null where not given."
    )
    fiscal_period: str = strawberry.field(
        description="Fiscal period of that filing: FY, Q1, Q2, Q3 or Q4 (fp)."
    )
    form: str = strawberry.field(description="Form of that filing: 10-K, 10-Q ...")
    filed: dt.date = strawberry.field(description="Day that filing was made.")
    accession_number: str = strawberry.field(description="That filing's accession number.")


def fact_from(record: FactRecord) -> Fact:
    return Fact(
        value=record.value,
        unit=record.unit,
        concept=f"{record.taxonomy}:{record.concept}",
        period_start=record.period_start,
        period_end=record.period_end,
        fiscal_year=record.fiscal_year,
        fiscal_period=record.fiscal_period,
        form=record.form,
        filed=record.filed,
        accession_number=record.accession,
    )


@strawberry.type(description="A fact value and its cursor in a list of values.")
class FactEdge:
    node: Fact = strawberry.field(description="The value.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this value.")


@strawberry.type(
    description="A page of a fact's values, newest period first: quarters, year-to-date and "
    "fiscal years are distinct periods (compare `periodStart`/`periodEnd`)."
)
class FactConnection:
    edges: list[FactEdge] = strawberry.field(description="The values of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursors.")


def _edges(page: Page[FilingRecord]) -> list[FilingEdge]:
    return [FilingEdge(node=filing_from(r), cursor=encode_cursor(k)) for r, k in page.rows]


@strawberry.type(description="A stock's SEC record: its company's filings and XBRL facts.")
class StockFilings:
    """The SEC fields of a stock (a mixin of `Stock`): its company's filings and facts."""

    symbol: str = strawberry.field(description="Ticker symbol, upper case.")

    @strawberry.field(
        description="The company's SEC Central Index Key (CIK); null where EDGAR data has not "
        "been ingested for the stock."
    )
    async def cik(self, info: Info[MicroContext, None]) -> int | None:
        company = await info.context.companies.load(self.symbol)
        return None if company is None else company.cik

    @strawberry.field(
        description="The company's filings with the SEC, newest first (by filing day, then "
        "accession number), as a Relay connection.",
        directives=[connection_sized()],
    )
    async def filings(
        self,
        info: Info[MicroContext, None],
        forms: Forms = None,
        first: First = 20,
        after: After = None,
    ) -> FilingConnection:
        cursor = decode_cursor(after, (date_part, text_part))
        key = FilingsPageKey(
            self.symbol,
            None if forms is None else tuple(sorted(set(forms))),
            checked_first(first),
            after,
            None if cursor is None else (cursor[0], cursor[1]),
        )
        page: Page[FilingRecord] = await info.context.filings_pages.load(key)
        return FilingConnection(edges=_edges(page), page_info=page_info(page))

    @strawberry.field(
        description="The newest filing of each of `forms` (by default the latest annual "
        "report 10-K, quarterly report 10-Q and current report 8-K), newest first; a form "
        "never filed is left out.",
        directives=[assumed_size(MAX_FORMS)],  # demand control: one filing per form
    )
    async def latest_filings(
        self,
        info: Info[MicroContext, None],
        forms: Annotated[
            list[str],
            strawberry.argument(
                description=f"SEC form types, e.g. 10-K, 10-Q, 8-K (1 to {MAX_FORMS})."
            ),
        ] = list(LATEST_FORMS),  # noqa: B006 -- strawberry copies argument defaults
    ) -> list[Filing]:
        key = LatestFilingsKey(self.symbol, _checked_forms(forms))
        records: list[FilingRecord] = await info.context.latest_filings.load(key)
        return [filing_from(record) for record in records]

    @strawberry.field(
        description="A financial fact the company reported in its XBRL filings, one value per "
        "period (the latest filed), newest period first, as a Relay connection.",
        directives=[connection_sized()],
    )
    async def facts(
        self,
        info: Info[MicroContext, None],
        concept: Annotated[
            FactConcept, strawberry.argument(description="Which fact: revenue, shares ...")
        ],
        first: First = 20,
        after: After = None,
    ) -> FactConnection:
        cursor = decode_cursor(after, (date_part, date_part))
        key = FactsPageKey(
            self.symbol,
            concept,
            checked_first(first),
            after,
            None if cursor is None else (cursor[0], cursor[1]),
        )
        page: Page[FactRecord] = await info.context.facts_pages.load(key)
        return FactConnection(
            edges=[FactEdge(node=fact_from(r), cursor=encode_cursor(k)) for r, k in page.rows],
            page_info=page_info(page),
        )


def _checked_forms(forms: list[str]) -> tuple[str, ...]:
    if not 1 <= len(forms) <= MAX_FORMS:
        raise BadUserInput(
            f"`forms` must name 1 to {MAX_FORMS} form types, not {len(forms)}.", argument="forms"
        )
    return tuple(sorted(set(forms)))
