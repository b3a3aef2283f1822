"""SEC EDGAR: company submissions (filings) and XBRL company facts, per covered ticker.

Endpoints (https://www.sec.gov/edgar/sec-api-documentation):
- `https://www.sec.gov/files/company_tickers.json`: `{"0": {"cik_str": 320193, "ticker":
  "AAPL", "title": "Apple Inc."}, ...}`, the ticker -> CIK map;
- `https://data.sec.gov/submissions/CIK##########.json`: the company and its latest filings as
  parallel arrays (`filings.recent.form[i]`, `filingDate[i]`, `accessionNumber[i]`,
  `primaryDocument[i]` ...); older filings in the files listed in `filings.files`, each the same
  arrays at the top level;
- `https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json`: every XBRL fact,
  `facts.{taxonomy}.{concept}.units.{unit}[]` with `val`, `end`, `start` (durations), `fy`,
  `fp`, `form`, `filed`, `accn`.

EDGAR's fair-access policy: a User-Agent naming the requester and a contact address
(NEXUS_SEC_USER_AGENT, required), and at most ten requests a second.

The cursor is, per ticker, the last filing day seen (`filed`) and the last facts filing day
(`facts_filed`): a run asks again for every document (EDGAR has no "since" parameter) but
forwards only what was filed on or after those days; the sink drops what it already has.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from nexus.assembly.ingest.errors import BadPayload, SourceRefused
from nexus.assembly.ingest.http import SourceHttp
from nexus.assembly.ingest.micro import MissingSetting
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.source import SourceConfig
from subgraphs.micro.filings import KEPT_CONCEPTS

log = logging.getLogger("nexus.ingest.sec")

NAME = "sec"
DATA_SEC = "https://data.sec.gov"
TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
USER_AGENT_ENV = "NEXUS_SEC_USER_AGENT"
SYMBOLS_ENV = "NEXUS_SEC_SYMBOLS"
DEFAULT_SYMBOLS = ("AMC", "BB", "GME", "NOK", "TSLA")  # the demo's stocks
MAX_OLDER_FILES = 20  # older submissions pages followed per ticker on a deep backfill


def declared_user_agent(env: Mapping[str, str]) -> str | None:
    """NEXUS_SEC_USER_AGENT when it declares a requester and a contact address (EDGAR refuses
    undeclared tools), e.g. `Example Research ops@example.com`; None otherwise."""
    agent = env.get(USER_AGENT_ENV, "").strip()
    return agent if "@" in agent and len(agent.split()) >= 2 else None


def user_agent_headers(env: Mapping[str, str]) -> dict[str, str]:
    agent = declared_user_agent(env)
    return {"User-Agent": agent, "Accept-Encoding": "gzip, deflate"} if agent else {}


def parse_tickers(document: Any) -> dict[str, tuple[int, str]]:
    """Ticker (upper case) -> (CIK, company name) from company_tickers.json."""
    if not isinstance(document, dict):
        raise ValueError("company_tickers.json is not an object")
    found: dict[str, tuple[int, str]] = {}
    for entry in document.values():
        found[str(entry["ticker"]).upper()] = (int(entry["cik_str"]), str(entry["title"]))
    return found


def _filing_rows(arrays: Mapping[str, Any], symbol: str, cik: int) -> list[dict[str, Any]]:
    """The filings of one set of parallel arrays (`filings.recent` or an older file)."""
    accessions = arrays["accessionNumber"]
    forms, filed = arrays["form"], arrays["filingDate"]
    if not (isinstance(accessions, list) and len(forms) == len(filed) == len(accessions)):
        raise ValueError("filings arrays missing or of different lengths")
    size = len(accessions)

    def column(name: str) -> list[Any]:
        values = arrays.get(name)
        return values if isinstance(values, list) and len(values) == size else [""] * size

    reports, accepted = column("reportDate"), column("acceptanceDateTime")
    documents, descriptions = column("primaryDocument"), column("primaryDocDescription")
    rows = []
    for i in range(size):
        rows.append({
            "symbol": symbol,
            "cik": cik,
            "accession": str(accessions[i]),
            "form": str(forms[i]),
            "filed": dt.date.fromisoformat(filed[i]).isoformat(),
            "report_date": dt.date.fromisoformat(reports[i]).isoformat() if reports[i] else None,
            # e.g. 2024-03-26T16:05:12.000Z
            "accepted_at": (
                dt.datetime.fromisoformat(accepted[i].replace("Z", "+00:00"))
                .astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
                if accepted[i] else None
            ),
            "primary_document": str(documents[i]),
            "description": str(descriptions[i]),
        })
    return rows


def parse_submissions(
    document: Any, symbol: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """(company, filings of `filings.recent`, names of the older files) of a submissions
    document; ValueError/KeyError/TypeError on another shape."""
    cik = int(document["cik"])
    company = {"symbol": symbol, "cik": cik, "name": str(document["name"])}
    filings = document["filings"]
    older = [str(item["name"]) for item in filings.get("files", [])]
    return company, _filing_rows(filings["recent"], symbol, cik), older


def parse_submissions_page(document: Any, symbol: str, cik: int) -> list[dict[str, Any]]:
    """The filings of an older submissions file (the arrays at the top level)."""
    return _filing_rows(document, symbol, cik)


def parse_company_facts(document: Any, symbol: str) -> list[dict[str, Any]]:
    """The facts of the kept concepts (revenue, net income, EPS, shares outstanding)."""
    facts = []
    for taxonomy, concepts in document["facts"].items():
        for concept, body in concepts.items():
            if (taxonomy, concept) not in KEPT_CONCEPTS:
                continue
            for unit, values in body["units"].items():
                for value in values:
                    facts.append({
                        "symbol": symbol,
                        "taxonomy": taxonomy,
                        "concept": concept,
                        "unit": unit,
                        "period_start": (
                            dt.date.fromisoformat(value["start"]).isoformat()
                            if value.get("start") else None
                        ),
                        "period_end": dt.date.fromisoformat(value["end"]).isoformat(),
                        "value": float(value["val"]),
                        "fiscal_year": int(value["fy"]) if value.get("fy") else None,
                        "fiscal_period": str(value.get("fp") or ""),
                        "form": str(value["form"]),
                        "filed": dt.date.fromisoformat(value["filed"]).isoformat(),
                        "accession": str(value["accn"]),
                    })
    return facts


class SecSource:
    name = NAME

    def __init__(self, config: SourceConfig) -> None:
        self.declared = declared_user_agent(config.env) is not None
        listed = config.env.get(SYMBOLS_ENV, "")
        self.symbols = tuple(s.strip().upper() for s in listed.split(",") if s.strip()) or (
            DEFAULT_SYMBOLS
        )
        # On EDGAR the ticker map is on www.sec.gov, the rest on data.sec.gov; a fake server
        # (or a mirror) serves all three under its own base.
        real = config.base_url.rstrip("/") == DATA_SEC
        self.tickers_url = TICKERS_URL if real else "files/company_tickers.json"

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        if not self.declared:
            raise MissingSetting(
                f"{USER_AGENT_ENV} must name you and give a contact e-mail, e.g. 'Example "
                "Research ops@example.com' (SEC EDGAR's fair-access policy)."
            )
        symbols = window.only or self.symbols
        tickers_document = await http.get_json(self.tickers_url)
        try:
            tickers = parse_tickers(tickers_document)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BadPayload(
                f"company_tickers.json: {error!r}", request={"path": "tickers"}
            ) from None
        state: dict[str, Any] = {key: dict(value) for key, value in cursor.items()
                                 if isinstance(value, dict)}
        for symbol in symbols:
            if symbol not in tickers:
                yield Batch([], _cursor(state), [_letter(symbol, "not in EDGAR's ticker map")])
                continue
            cik, _ = tickers[symbol]
            records, failures = await self._company(http, symbol, cik, state, window)
            yield Batch(records, _cursor(state), failures)

    async def _company(
        self, http: SourceHttp, symbol: str, cik: int, state: dict[str, Any], window: Window
    ) -> tuple[list[Record], list[DeadLetter]]:
        since = window.since.date().isoformat() if window.since else None
        seen = state.setdefault(symbol, {})
        records: list[Record] = []
        failures: list[DeadLetter] = []
        filings_from = since or seen.get("filed") or "0000-00-00"
        until = window.until.date().isoformat() if window.until else "9999-12-31"
        try:
            document = await http.get_json(f"submissions/CIK{cik:010d}.json")
            company, filings, older = parse_submissions(document, symbol)
            # Older files only when the window reaches past the oldest recent filing.
            oldest = min((f["filed"] for f in filings), default="0000-00-00")
            for name in older[:MAX_OLDER_FILES] if filings_from < oldest else []:
                page = await http.get_json(f"submissions/{name}")
                filings += parse_submissions_page(page, symbol, cik)
        except BadPayload as error:
            failures.append(_letter(symbol, error.reason, error.request, error.excerpt))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            failures.append(_letter(symbol, f"submissions: unexpected shape ({error!r})"))
        else:
            records.append(Record(NAME, "company", symbol, company))
            kept = [f for f in filings if filings_from <= f["filed"] <= until]
            records += [Record(NAME, "filing", f["accession"], f) for f in kept]
            if kept:
                seen["filed"] = max(seen.get("filed", ""), max(f["filed"] for f in kept))
        facts_from = since or seen.get("facts_filed") or "0000-00-00"
        try:
            document = await http.get_json(f"api/xbrl/companyfacts/CIK{cik:010d}.json")
            facts = parse_company_facts(document, symbol)
        except SourceRefused as error:
            if error.status != 404:
                raise
            # EDGAR has no company facts for a filer without XBRL (or with IFRS-only facts).
            log.info("no company facts", extra={"source": NAME, "symbol": symbol})
        except BadPayload as error:
            failures.append(_letter(symbol, error.reason, error.request, error.excerpt))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            failures.append(_letter(symbol, f"companyfacts: unexpected shape ({error!r})"))
        else:
            kept_facts = [f for f in facts if facts_from <= f["filed"] <= until]
            records += [Record(NAME, "fact", _fact_key(f), f) for f in kept_facts]
            if kept_facts:
                seen["facts_filed"] = max(
                    seen.get("facts_filed", ""), max(f["filed"] for f in kept_facts)
                )
        return records, failures


def _fact_key(fact: Mapping[str, Any]) -> str:
    return ":".join(str(fact[k]) for k in (
        "symbol", "taxonomy", "concept", "unit", "period_start", "period_end", "accession"))


def _cursor(state: Mapping[str, Any]) -> Cursor:
    return {symbol: dict(seen) for symbol, seen in state.items()}


def _letter(
    symbol: str, reason: str, request: dict[str, Any] | None = None, excerpt: str = ""
) -> DeadLetter:
    return DeadLetter(
        NAME, "fetch", reason, {"request": request or {}, "excerpt": excerpt}, {"only": [symbol]}
    )
