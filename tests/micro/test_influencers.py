"""Influencers: author profiles per cashtag and the price move after their posts."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

import pytest

from tests.micro.conftest import GraphQL

FROM, TO = "2020-03-02", "2020-03-13"
INFLUENCERS = """
query Influencers($symbol: String!, $from: Date, $to: Date, $limit: Int!) {
  influencers(symbol: $symbol, from: $from, to: $to, limit: $limit) {
    author followers postCount averageSentiment impact impactStandardError events
  }
}
"""


async def test_impact_is_the_mean_abnormal_return_the_day_after_each_post_day(
    graphql: GraphQL,
) -> None:
    result = await graphql(INFLUENCERS, symbol="$gme", limit=50, **{"from": FROM, "to": TO})
    facts = await graphql(f"""{{ stock(symbol: "GME") {{
        candles(from: "2020-02-20", to: "2020-03-25") {{ date close }}
        posts(from: "{FROM}", to: "{TO}", limit: 500) {{ author createdAt sentiment }}
    }} }}""")

    assert result.errors is None
    assert facts.errors is None
    candles = facts.data["stock"]["candles"]
    dates = [dt.date.fromisoformat(c["date"]) for c in candles]
    returns = {
        dates[i]: candles[i]["close"] / candles[i - 1]["close"] - 1 for i in range(1, len(dates))
    }
    start, end = dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO)
    mean = statistics.fmean(r for day, r in returns.items() if start <= day <= end)
    posts_by_author = defaultdict(list)
    for post in facts.data["stock"]["posts"]:
        posts_by_author[post["author"]].append(post)

    influencers = result.data["influencers"]
    assert {row["author"] for row in influencers} == set(posts_by_author)
    for row in influencers:
        posts = posts_by_author[row["author"]]
        assert row["postCount"] == len(posts)
        assert row["averageSentiment"] == pytest.approx(
            statistics.fmean(post["sentiment"] for post in posts), abs=1e-6
        )
        post_days = {dt.datetime.fromisoformat(post["createdAt"]).date() for post in posts}
        abnormal = [
            returns[min(day for day in returns if day > post_day)] - mean for post_day in post_days
        ]
        assert row["events"] == len(abnormal)
        assert row["impact"] == pytest.approx(statistics.fmean(abnormal), abs=1e-9)
        if len(abnormal) > 1:
            expected_error = statistics.stdev(abnormal) / len(abnormal) ** 0.5
            assert row["impactStandardError"] == pytest.approx(expected_error, abs=1e-9)
    clarity = [
        abs(row["impact"]) / row["impactStandardError"]
        for row in influencers if row["impactStandardError"]
    ]
    assert clarity == sorted(clarity, reverse=True)


async def test_stock_influencers_match_the_root_field_and_respect_the_limit(
    graphql: GraphQL,
) -> None:
    result = await graphql(f"""{{
        stock(symbol: "AMC") {{ influencers(from: "{FROM}", to: "{TO}", limit: 3) {{ author }} }}
        influencers(symbol: "AMC", from: "{FROM}", to: "{TO}", limit: 3) {{ author followers }}
    }}""")

    assert result.errors is None
    assert len(result.data["influencers"]) == 3
    assert [row["author"] for row in result.data["stock"]["influencers"]] == [
        row["author"] for row in result.data["influencers"]
    ]
    assert all(row["followers"] > 0 for row in result.data["influencers"])


async def test_a_symbol_nobody_posts_about_has_no_influencers(graphql: GraphQL) -> None:
    result = await graphql(INFLUENCERS, symbol="ZZZZ", limit=5)

    assert result.errors is None
    assert result.data == {"influencers": []}
