"""Recorded-format documents the micro fake servers serve: EDGAR's ticker map, submissions and
company facts, X API v2 posts with their authors, Reddit listing items.

The shapes are EDGAR's, X's and Reddit's (field names, nesting, types, parallel arrays, ISO
and epoch times); the values are made up for the tests and are not the companies' figures:
a deterministic calendar of filings (10-K each year, 10-Q each other quarter, some 8-Ks;
20-F/6-K for the foreign filer), revenue per quarter and year, shares outstanding per filing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# ticker -> (CIK, EDGAR's company name); the CIKs are the companies' real ones.
COMPANIES: dict[str, tuple[int, str]] = {
    "GME": (1326380, "GameStop Corp."),
    "AMC": (1411579, "AMC ENTERTAINMENT HOLDINGS, INC."),
    "TSLA": (1318605, "Tesla, Inc."),
    "BB": (1070235, "BlackBerry Ltd"),
    "NOK": (924613, "NOKIA CORP"),
}
FOREIGN = frozenset({"NOK"})  # files 20-F/6-K, no us-gaap company facts (404)
YEARS = range(2019, 2025)
RECENT_FROM = dt.date(2022, 1, 1)  # GME's older filings are in a second submissions file
PAGED = frozenset({"GME"})


def company_tickers() -> dict[str, Any]:
    return {
        str(i): {"cik_str": cik, "ticker": ticker, "title": title}
        for i, (ticker, (cik, title)) in enumerate(COMPANIES.items())
    }


def filings(symbol: str) -> list[dict[str, Any]]:
    """The company's filings, newest first, as rows of EDGAR's parallel arrays."""
    cik, _ = COMPANIES[symbol]
    rows: list[dict[str, Any]] = []
    sequence = 0
    for year in YEARS:
        for quarter in range(1, 5):
            end = _quarter_end(year, quarter)
            filed = end + dt.timedelta(days=40 if quarter < 4 else 60)
            sequence += 1
            if symbol in FOREIGN:
                form = "20-F" if quarter == 4 else "6-K"
            else:
                form = "10-K" if quarter == 4 else "10-Q"
            rows.append(_filing(symbol, cik, form, filed, end, sequence))
            sequence += 1
            # An 8-K (results press release) a day before each periodic report.
            if symbol not in FOREIGN:
                rows.append(_filing(symbol, cik, "8-K", filed - dt.timedelta(days=1), filed
                                    - dt.timedelta(days=1), sequence))
    rows.sort(key=lambda row: (row["filingDate"], row["accessionNumber"]), reverse=True)
    return rows


def _quarter_end(year: int, quarter: int) -> dt.date:
    month = 3 * quarter
    return (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))


def _filing(
    symbol: str, cik: int, form: str, filed: dt.date, report: dt.date, sequence: int
) -> dict[str, Any]:
    document = (
        f"{symbol.lower()}-8k_{filed:%Y%m%d}.htm" if form == "8-K"
        else f"{symbol.lower()}-{report:%Y%m%d}.htm"
    )
    return {
        "accessionNumber": f"{cik:010d}-{filed:%y}-{sequence:06d}",
        "filingDate": filed.isoformat(),
        "reportDate": report.isoformat(),
        "acceptanceDateTime": f"{filed.isoformat()}T21:05:{sequence % 60:02d}.000Z",
        "act": "34",
        "form": form,
        "fileNumber": "001-32242",
        "filmNumber": f"24{sequence:07d}",
        "items": "2.02,9.01" if form == "8-K" else "",
        "size": 1_000_000 + 17 * sequence,
        "isXBRL": 1,
        "isInlineXBRL": 1,
        "primaryDocument": document,
        "primaryDocDescription": form,
    }


def _arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = list(rows[0]) if rows else ["accessionNumber", "filingDate", "form"]
    return {name: [row[name] for row in rows] for name in names}


def older_file_name(symbol: str) -> str:
    return f"CIK{COMPANIES[symbol][0]:010d}-submissions-001.json"


def submissions(symbol: str) -> dict[str, Any]:
    cik, name = COMPANIES[symbol]
    rows = filings(symbol)
    recent = [r for r in rows if symbol not in PAGED or r["filingDate"] >= RECENT_FROM.isoformat()]
    older = [r for r in rows if r not in recent]
    files = []
    if older:
        files.append({
            "name": older_file_name(symbol),
            "filingCount": len(older),
            "filingFrom": older[-1]["filingDate"],
            "filingTo": older[0]["filingDate"],
        })
    return {
        "cik": str(cik),
        "entityType": "operating",
        "sic": "5734",
        "sicDescription": "Retail-Computer & Computer Software Stores",
        "name": name,
        "tickers": [symbol],
        "exchanges": ["NYSE"],
        "fiscalYearEnd": "1231",
        "filings": {"recent": _arrays(recent), "files": files},
    }


def older_submissions(symbol: str) -> dict[str, Any]:
    rows = filings(symbol)
    return _arrays([r for r in rows if r["filingDate"] < RECENT_FROM.isoformat()])


def quarterly_revenue(symbol: str, year: int, quarter: int) -> float:
    """The made-up revenue of a quarter, US dollars (a base per company, growing 2% a
    quarter)."""
    base = {"GME": 1.2e9, "AMC": 0.9e9, "TSLA": 6.0e9, "BB": 0.25e9}[symbol]
    return round(base * 1.02 ** ((year - YEARS[0]) * 4 + quarter - 1), -3)


def shares_outstanding(symbol: str, filed: dt.date) -> float:
    base = {"GME": 70e6, "AMC": 100e6, "TSLA": 900e6, "BB": 560e6}[symbol]
    return float(int(base * (1 + (filed.year - YEARS[0]) * 0.05)))


def company_facts(symbol: str) -> dict[str, Any]:
    """Revenue (each quarter from its 10-Q, each year from its 10-K, and the prior year again
    in each 10-K as filed then), net income, and shares outstanding from each cover page."""
    cik, name = COMPANIES[symbol]
    revenue: list[dict[str, Any]] = []
    shares: list[dict[str, Any]] = []
    net_income: list[dict[str, Any]] = []
    periodic = [r for r in filings(symbol) if r["form"] in ("10-K", "10-Q")]
    for row in sorted(periodic, key=lambda r: r["filingDate"]):
        end = dt.date.fromisoformat(row["reportDate"])
        year, quarter = end.year, (end.month - 1) // 3 + 1
        common = {
            "accn": row["accessionNumber"], "fy": year, "fp": "FY" if quarter == 4 else
            f"Q{quarter}", "form": row["form"], "filed": row["filingDate"],
        }
        if row["form"] == "10-Q":
            start = dt.date(year, 3 * quarter - 2, 1)
            revenue.append({"start": start.isoformat(), "end": end.isoformat(),
                            "val": quarterly_revenue(symbol, year, quarter), **common,
                            "frame": f"CY{year}Q{quarter}"})
        else:
            for past in (year - 1, year):
                if past < YEARS[0]:
                    continue
                total = sum(quarterly_revenue(symbol, past, q) for q in range(1, 5))
                revenue.append({"start": f"{past}-01-01", "end": f"{past}-12-31",
                                "val": total, **common})
            net_income.append({"start": f"{year}-01-01", "end": f"{year}-12-31",
                               "val": round(-2.1e8 + 1.5e8 * (year - YEARS[0]), -3), **common})
        filed = dt.date.fromisoformat(row["filingDate"])
        shares.append({"end": (filed - dt.timedelta(days=10)).isoformat(),
                       "val": shares_outstanding(symbol, filed), **common})
    return {
        "cik": cik,
        "entityName": name,
        "facts": {
            "dei": {
                "EntityCommonStockSharesOutstanding": {
                    "label": "Entity Common Stock, Shares Outstanding",
                    "description": "Indicate number of shares or other units outstanding of each "
                    "of registrant's classes of capital or common stock...",
                    "units": {"shares": shares},
                },
            },
            "us-gaap": {
                "Revenues": {
                    "label": "Revenues",
                    "description": "Amount of revenue recognized from goods sold, services "
                    "rendered, insurance premiums, or other activities...",
                    "units": {"USD": revenue},
                },
                "NetIncomeLoss": {
                    "label": "Net Income (Loss) Attributable to Parent",
                    "description": "The portion of profit or loss for the period...",
                    "units": {"USD": net_income},
                },
                "AccountsPayableCurrent": {  # a concept the source does not keep
                    "label": "Accounts Payable, Current",
                    "description": "Carrying value as of the balance sheet date...",
                    "units": {"USD": [{"end": "2023-12-31", "val": 4.1e8, "accn":
                                       "0001326380-24-000001", "fy": 2023, "fp": "FY",
                                       "form": "10-K", "filed": "2024-02-29"}]},
                },
            },
        },
    }


# X: authors and posts, newest first (ids are snowflakes: larger is later).
X_USERS: list[dict[str, Any]] = [
    {"id": "2244994945", "username": "squeeze_watch", "name": "Squeeze Watch",
     "public_metrics": {"followers_count": 182000, "following_count": 310,
                        "tweet_count": 48211, "listed_count": 902, "like_count": 1200}},
    {"id": "783214", "username": "deepvalue_kate", "name": "Kate | Deep Value",
     "public_metrics": {"followers_count": 5400, "following_count": 880,
                        "tweet_count": 9120, "listed_count": 41, "like_count": 300}},
    {"id": "1505517771", "username": "optionsflowbot", "name": "Options Flow",
     "public_metrics": {"followers_count": 41000, "following_count": 12,
                        "tweet_count": 210004, "listed_count": 330, "like_count": 5}},
]
_X_TEXTS = [
    ("2244994945", "$GME short interest still above 20% of float, borrow fee climbing. "
     "This could squeeze again.", ["GME"]),
    ("783214", "Sold my $AMC today, dilution keeps eating the upside. Not touching it.",
     ["AMC"]),
    ("1505517771", "Unusual call volume: $TSLA 300C expiring Friday, $GME 30C sweeps.",
     ["TSLA", "GME"]),
    ("2244994945", "$BB quietly breaking out on volume. Watching the 5.50 level.", ["BB"]),
    ("783214", "Earnings tonight for $GME. Expecting another revenue miss, margins thin.",
     ["GME"]),
    ("1505517771", "$NOK calls lit up, 10k contracts at the 4 strike.", ["NOK"]),
    ("2244994945", "Retail is back: $GME and $AMC trending again, volume 3x average.",
     ["GME", "AMC"]),
]
X_FIRST_ID = 1_790_000_000_000_000_000
X_START = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)


def x_posts() -> list[dict[str, Any]]:
    """The fake's posts, newest first, as the API returns them in `data`."""
    posts = []
    for i, (author, text, tags) in enumerate(_X_TEXTS):
        start = 0
        cashtags = []
        for tag in tags:
            start = text.index(f"${tag}", start)
            cashtags.append({"start": start, "end": start + len(tag) + 1, "tag": tag})
        posts.append({
            "id": str(X_FIRST_ID + 1000 * i),
            "text": text,
            "author_id": author,
            "created_at": (X_START + dt.timedelta(minutes=7 * i)).isoformat()
            .replace("+00:00", ".000Z"),
            "lang": "en",
            "edit_history_tweet_ids": [str(X_FIRST_ID + 1000 * i)],
            "entities": {"cashtags": cashtags},
            "public_metrics": {"retweet_count": i, "reply_count": 2 * i, "like_count": 10 * i,
                               "quote_count": 0, "bookmark_count": 0, "impression_count": 900},
        })
    return list(reversed(posts))


# Reddit: r/wallstreetbets items, newest first (links t3 and comments t1).
REDDIT_START = 1_796_000_000.0  # 2026-11-30T...Z, epoch seconds
_REDDIT_ITEMS = [
    ("t3", "DeepFuckingValue2", "GME earnings play", "Loaded $GME calls before earnings. "
     "Balance sheet is fine, cash pile huge."),
    ("t1", "bagholder_9000", "", "$AMC holders still here? Down 80% and holding."),
    ("t3", "thetagang_rules", "Weekly theta thread", "Selling puts on whatever is cheap. "
     "No tickers this week."),
    ("t1", "apes_together", "", "$GME $AMC both green premarket, let's go"),
    ("t3", "quant_or_bust", "TSLA deliveries model", "My model says $TSLA deliveries beat by "
     "5%. Positions: none."),
    ("t1", "throwaway_8812", "", "Bought $BB at 4.20, what is the exit plan?"),
    ("t1", "[deleted]", "", "[removed]"),
    ("t3", "nokia_believer", "$NOK 5G contracts", "$NOK signed two more carrier deals, "
     "nobody is talking about it."),
]


def reddit_items(subreddit: str) -> list[dict[str, Any]]:
    items = []
    for i, (kind, author, title, body) in enumerate(_REDDIT_ITEMS):
        base36 = _base36(1_600_000_000 + 977 * i)
        created = REDDIT_START - 1800.0 * i
        data: dict[str, Any] = {
            "id": base36,
            "name": f"{kind}_{base36}",
            "author": author,
            "created_utc": created,
            "subreddit": subreddit,
            "score": 100 - i,
        }
        if kind == "t3":
            data.update({
                "title": title,
                "selftext": body,
                "num_comments": 10 * i,
                "permalink": f"/r/{subreddit}/comments/{base36}/{title.lower().replace(' ', '_')}/",
            })
        else:
            data.update({
                "body": body,
                "link_id": "t3_1abcd2",
                "permalink": f"/r/{subreddit}/comments/1abcd2/_/{base36}/",
            })
        items.append({"kind": kind, "data": data})
    return items


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
