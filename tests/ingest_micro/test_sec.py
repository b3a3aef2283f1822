"""SEC EDGAR against its fake: filings over both submissions files, facts, the fair-access
User-Agent, retries on 429/5xx/timeouts, a truncated body dead-lettered, a re-run that adds
nothing; then the new Stock fields answering in GraphQL."""

from __future__ import annotations

import datetime as dt

from nexus.assembly.ingest.micro import fixtures
from nexus.assembly.ingest.records import Window
from tests.ingest_micro.conftest import Ingest

GME = Window(only=("GME",))
SUBMISSIONS = "/sec/submissions/CIK0001326380.json"
FACTS = "/sec/api/xbrl/companyfacts/CIK0001326380.json"


async def test_backfill_follows_older_files_and_a_rerun_changes_nothing(ingest: Ingest) -> None:
    first = await ingest.run("sec", GME)

    assert first.error is None
    expected = fixtures.filings("GME")
    assert await ingest.count("filings") == len(expected)  # recent + the older file
    hits = await ingest.hits()
    assert hits["/sec/submissions/CIK0001326380-submissions-001.json"] == 1
    companies = await ingest.pipeline.analytics.query(
        f"SELECT symbol, cik, name FROM {ingest.database}.companies FINAL"
    )
    assert companies == [{"symbol": "GME", "cik": 1326380, "name": "GameStop Corp."}]
    stocks = await ingest.pipeline.analytics.query(
        f"SELECT symbol, name FROM {ingest.database}.stocks FINAL"
    )
    assert stocks == [{"symbol": "GME", "name": "GameStop Corp."}]  # a new ticker is a stock
    facts = await ingest.count("facts")
    # Revenue, net income and shares outstanding; AccountsPayableCurrent is not kept.
    document = fixtures.company_facts("GME")["facts"]
    kept = sum(
        len(values)
        for taxonomy, concept in (("us-gaap", "Revenues"), ("us-gaap", "NetIncomeLoss"),
                                  ("dei", "EntityCommonStockSharesOutstanding"))
        for values in document[taxonomy][concept]["units"].values()
    )
    assert facts == kept
    assert first.rows == len(expected) + kept

    again = await ingest.run("sec", GME)

    assert again.error is None
    assert again.rows == 0
    assert await ingest.count("filings") == len(expected)
    assert await ingest.count("facts") == facts


async def test_a_listed_stock_keeps_its_name(ingest: Ingest) -> None:
    await ingest.writer.ensure_schema()
    await ingest.pipeline.analytics.insert(
        f"{ingest.database}.stocks", ["symbol", "name"], [["GME", "GameStop"]]
    )

    assert (await ingest.run("sec", GME)).error is None

    stocks = await ingest.pipeline.analytics.query(
        f"SELECT symbol, name FROM {ingest.database}.stocks FINAL"
    )
    assert stocks == [{"symbol": "GME", "name": "GameStop"}]


async def test_429_500_and_a_timeout_are_retried(ingest: Ingest) -> None:
    await ingest.faults(SUBMISSIONS, "429:0", "503")
    await ingest.faults(FACTS, "timeout:2")

    report = await ingest.run("sec", GME)

    assert report.error is None
    assert report.retries == 3
    assert report.dead_letters == 0
    assert (await ingest.hits())[SUBMISSIONS] == 3
    assert await ingest.count("filings") == len(fixtures.filings("GME"))
    assert await ingest.count("facts") > 0


async def test_a_truncated_facts_body_is_dead_lettered_and_fetched_on_the_next_run(
    ingest: Ingest,
) -> None:
    await ingest.faults(FACTS, "truncate")

    cut = await ingest.run("sec", GME)

    assert cut.error is None  # the filings went in; only the facts response is quarantined
    assert cut.dead_letters == 1
    letters = await ingest.dead.letters("sec")
    assert "not JSON" in letters[0].reason
    assert letters[0].scope == {"only": ["GME"]}
    assert await ingest.count("filings") == len(fixtures.filings("GME"))
    assert await ingest.count("facts") == 0

    retried = await ingest.run("sec", GME)

    assert retried.dead_letters == 0
    assert await ingest.count("facts") > 0


async def test_without_a_declared_user_agent_nothing_is_requested(ingest: Ingest) -> None:
    ingest.pipeline.env = {**ingest.pipeline.env, "NEXUS_SEC_USER_AGENT": "python-httpx/0.28"}

    report = await ingest.run("sec", GME)

    assert report.error is not None and "NEXUS_SEC_USER_AGENT" in report.error
    assert await ingest.hits() == {}


async def test_a_ticker_edgar_does_not_know_is_dead_lettered_alone(ingest: Ingest) -> None:
    report = await ingest.run("sec", Window(only=("ZZZZ", "NOK")))

    assert report.error is None
    letters = await ingest.dead.letters("sec")
    assert [letter.reason for letter in letters] == ["not in EDGAR's ticker map"]
    # NOK files 20-F/6-K and has no us-gaap company facts (EDGAR answers 404): filings only.
    forms = await ingest.pipeline.analytics.query(
        f"SELECT DISTINCT form FROM {ingest.database}.filings ORDER BY form"
    )
    assert [row["form"] for row in forms] == ["20-F", "6-K"]
    assert await ingest.count("facts") == 0


FILINGS = """
query Filings($after: String) {
  stock(symbol: "GME") {
    cik
    latestFilings { form filed accessionNumber documentUrl }
    filings(forms: ["10-K"], first: 2, after: $after) {
      edges { cursor node { form filed reportDate accessionNumber primaryDocument } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    revenue: facts(concept: REVENUE, first: 3) {
      edges { node { value unit concept periodStart periodEnd fiscalPeriod form filed } }
      pageInfo { hasNextPage }
    }
    shares: facts(concept: SHARES_OUTSTANDING, first: 1) {
      edges { node { value unit periodStart periodEnd } }
    }
  }
}
"""


async def test_graphql_serves_filings_and_facts_with_cursors(ingest: Ingest) -> None:
    from subgraphs.micro import subgraph
    from subgraphs.micro.loaders import MicroContext
    from subgraphs.micro.repository import MicroRepository

    await ingest.run("sec", GME)
    await ingest.pipeline.analytics.insert(
        f"{ingest.database}.stocks", ["symbol", "name"], [["GME", "GameStop Corp."]]
    )
    assert ingest.pipeline.vectors is not None
    repository = MicroRepository(ingest.pipeline.analytics, ingest.pipeline.vectors,
                                 ingest.database)

    async def query(**variables: object) -> dict:
        result = await subgraph.schema.execute(
            FILINGS, variable_values=variables, context_value=MicroContext(repository, ingest.bus)
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data["stock"]

    stock = await query()
    second = await query(after=stock["filings"]["pageInfo"]["endCursor"])

    assert stock["cik"] == 1326380
    rows = fixtures.filings("GME")
    newest = {form: next(r for r in rows if r["form"] == form) for form in ("10-K", "10-Q", "8-K")}
    latest = {f["form"]: f for f in stock["latestFilings"]}
    assert {form: f["accessionNumber"] for form, f in latest.items()} == {
        form: row["accessionNumber"] for form, row in newest.items()
    }
    ten_k = newest["10-K"]
    assert latest["10-K"]["documentUrl"] == (
        "https://www.sec.gov/Archives/edgar/data/1326380/"
        f"{ten_k['accessionNumber'].replace('-', '')}/{ten_k['primaryDocument']}"
    )
    annual = [r for r in rows if r["form"] == "10-K"]
    pages = stock["filings"]["edges"] + second["filings"]["edges"]
    assert [e["node"]["accessionNumber"] for e in pages] == [r["accessionNumber"]
                                                             for r in annual[:4]]
    assert second["filings"]["pageInfo"]["hasPreviousPage"] is True

    revenue = [edge["node"] for edge in stock["revenue"]["edges"]]
    # Newest period first: FY2024 (the 10-K's), then Q3 2024 (its 10-Q), ...
    assert [(r["periodStart"], r["periodEnd"]) for r in revenue] == [
        ("2024-01-01", "2024-12-31"), ("2024-07-01", "2024-09-30"), ("2024-04-01", "2024-06-30")
    ]
    assert revenue[0]["value"] == sum(fixtures.quarterly_revenue("GME", 2024, q)
                                      for q in range(1, 5))
    assert revenue[1]["value"] == fixtures.quarterly_revenue("GME", 2024, 3)
    assert {r["unit"] for r in revenue} == {"USD"}
    assert revenue[0]["concept"] == "us-gaap:Revenues"
    assert stock["revenue"]["pageInfo"]["hasNextPage"] is True
    shares = stock["shares"]["edges"][0]["node"]
    last_filed = dt.date.fromisoformat(rows[0]["filingDate"]) if rows[0]["form"] != "8-K" else \
        dt.date.fromisoformat(next(r for r in rows if r["form"] != "8-K")["filingDate"])
    assert shares == {"value": fixtures.shares_outstanding("GME", last_filed), "unit": "shares",
                      "periodStart": None,
                      "periodEnd": (last_filed - dt.timedelta(days=10)).isoformat()}


async def test_a_forged_filings_cursor_and_too_many_forms_are_bad_input(ingest: Ingest) -> None:
    from subgraphs.micro import subgraph
    from subgraphs.micro.loaders import MicroContext
    from subgraphs.micro.repository import MicroRepository
    from subgraphs.relay import encode_cursor

    await ingest.writer.ensure_schema()
    await ingest.pipeline.analytics.insert(
        f"{ingest.database}.stocks", ["symbol", "name"], [["GME", "GameStop Corp."]]
    )
    assert ingest.pipeline.vectors is not None
    context = MicroContext(
        MicroRepository(ingest.pipeline.analytics, ingest.pipeline.vectors, ingest.database),
        ingest.bus,
    )
    forged = await subgraph.schema.execute(
        'query($after: String!) { stock(symbol: "GME") { filings(after: $after) { '
        "edges { cursor } } } }",
        variable_values={"after": encode_cursor(["not a date", "x"])},
        context_value=context,
    )
    no_forms = await subgraph.schema.execute(
        '{ stock(symbol: "GME") { latestFilings(forms: []) { form } } }', context_value=context
    )

    for result, field in ((forged, "filings"), (no_forms, "latestFilings")):
        assert result.data == {"stock": None}
        assert result.errors is not None
        assert [(e.path[-1], e.extensions["code"]) for e in result.errors] == [
            (field, "BAD_USER_INPUT")
        ]
