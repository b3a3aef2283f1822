"""Posts: the meme-stock spike in mention volume, synthetic flags, cashtag search, similarity."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from tests.micro.conftest import GraphQL

MENTIONS = """
query Mentions($symbol: String!, $from: Date, $to: Date) {
  stock(symbol: $symbol) {
    postCount(from: $from, to: $to)
    mentionVolume(from: $from, to: $to) { date posts meanSentiment }
  }
}
"""

POST_FIELDS = "id source author authorFollowers text createdAt cashtags sentiment synthetic"


async def test_late_january_2021_posts_spike_above_the_2020_median(graphql: GraphQL) -> None:
    year = await graphql(MENTIONS, symbol="GME", **{"from": "2020-01-01", "to": "2020-12-31"})
    squeeze = await graphql(MENTIONS, symbol="GME", **{"from": "2021-01-22", "to": "2021-01-29"})

    assert year.errors is None
    assert squeeze.errors is None
    median_2020 = statistics.median(day["posts"] for day in year.data["stock"]["mentionVolume"])
    squeeze_days = squeeze.data["stock"]["mentionVolume"]
    assert [day["date"] for day in squeeze_days] == [
        "2021-01-22",
        "2021-01-25",
        "2021-01-26",
        "2021-01-27",
        "2021-01-28",
        "2021-01-29",
    ]
    assert all(day["posts"] > 3 * median_2020 for day in squeeze_days)
    assert squeeze.data["stock"]["postCount"] == sum(day["posts"] for day in squeeze_days)


async def test_sentiment_follows_the_price_move(graphql: GraphQL) -> None:
    # GME closed +134.8% on 2021-01-27 and -44.3% on 2021-01-28.
    up = await graphql(MENTIONS, symbol="GME", **{"from": "2021-01-27", "to": "2021-01-27"})
    down = await graphql(MENTIONS, symbol="GME", **{"from": "2021-01-28", "to": "2021-01-28"})

    assert up.data["stock"]["mentionVolume"][0]["meanSentiment"] > 0.5
    assert down.data["stock"]["mentionVolume"][0]["meanSentiment"] < -0.5


async def test_stock_posts_are_the_newest_tagging_it_and_marked_synthetic(
    graphql: GraphQL,
) -> None:
    result = await graphql(
        f"""{{ stock(symbol: "amc") {{
            posts(from: "2021-01-27", to: "2021-01-27", limit: 10) {{ {POST_FIELDS} }}
        }} }}"""
    )

    assert result.errors is None
    posts = result.data["stock"]["posts"]
    assert len(posts) == 10
    assert all("AMC" in post["cashtags"] and "$AMC" in post["text"] for post in posts)
    assert all(post["synthetic"] and post["source"] == "synthetic" for post in posts)
    assert all(post["author"].startswith("synthetic_") for post in posts)
    created = [dt.datetime.fromisoformat(post["createdAt"]) for post in posts]
    assert created == sorted(created, reverse=True)
    assert all(moment.date() == dt.date(2021, 1, 27) for moment in created)


async def test_real_wsb_comments_are_reddit_posts_not_synthetic(graphql: GraphQL) -> None:
    result = await graphql(
        f'{{ posts(from: "2019-08-31", to: "2019-08-31", limit: 500) {{ {POST_FIELDS} }} }}'
    )

    assert result.errors is None
    reddit = [post for post in result.data["posts"] if post["source"] == "reddit"]
    assert reddit
    assert not any(post["synthetic"] for post in reddit)
    first = next(post for post in reddit if post["id"] == "reddit:eyoxvxv")
    assert first["text"] == "Serious answer: neuropeptides"
    assert first["createdAt"] == "2019-08-31T21:00:24+00:00"
    # Real comments are scored by the same model as the generated posts.
    assert first["sentiment"] == pytest.approx(0.0, abs=0.5)


async def test_posts_by_cashtag_accepts_a_dollar_sign_and_any_case(graphql: GraphQL) -> None:
    query = '{ posts(cashtag: "%s", from: "2021-02-01", to: "2021-02-01", limit: 5) { id } }'
    plain = await graphql(query % "bb")
    tagged = await graphql(query % "$BB")

    assert plain.errors is None
    assert plain.data == tagged.data
    assert len(plain.data["posts"]) == 5


async def test_post_by_id_and_an_unknown_post(graphql: GraphQL) -> None:
    result = await graphql(
        '{ known: post(id: "reddit:eyoxvxv") { id source } unknown: post(id: "nope") { id } }'
    )

    assert result.errors is None
    assert result.data == {"known": {"id": "reddit:eyoxvxv", "source": "reddit"}, "unknown": None}


async def test_similar_posts_share_the_cashtag_and_exclude_the_post(graphql: GraphQL) -> None:
    result = await graphql(
        """{ stock(symbol: "GME") {
            posts(from: "2021-01-26", to: "2021-01-26", limit: 3) {
              id cashtags similar(limit: 8) { id cashtags text }
            }
        } }"""
    )

    assert result.errors is None
    for post in result.data["stock"]["posts"]:
        similar = post["similar"]
        assert len(similar) == 8
        assert post["id"] not in {other["id"] for other in similar}
        assert all("GME" in other["cashtags"] for other in similar)
