"""Sentiment through GraphQL: a caller's own texts, stored posts, and stock aggregates."""

from __future__ import annotations

import pytest

from subgraphs.micro.sentiment import MAX_TEXT_CHARACTERS, MAX_TEXTS
from tests.micro.conftest import GraphQL

SENTIMENT = """
query Score($texts: [String!]!) {
  sentiment(texts: $texts) { label score truncated probabilities { negative neutral positive } }
}
"""


async def test_a_callers_texts_are_scored_in_order(graphql: GraphQL) -> None:
    result = await graphql(SENTIMENT, texts=[
        "Quarterly profit jumped 40% and the company raised its dividend.",
        "The net loss widened as sales fell for a fourth straight quarter.",
        "The annual meeting takes place in Lisbon on 3 May.",
        "$XYZ 🚀🚀🚀 diamond hands",
    ])

    assert result.errors is None
    rows = result.data["sentiment"]
    assert [row["label"] for row in rows] == ["POSITIVE", "NEGATIVE", "NEUTRAL", "POSITIVE"]
    for row in rows:
        p = row["probabilities"]
        assert p["negative"] + p["neutral"] + p["positive"] == pytest.approx(1.0, abs=1e-5)
        assert row["score"] == pytest.approx(p["positive"] - p["negative"], abs=1e-6)
        assert row["truncated"] is False


async def test_long_texts_are_read_from_the_start_and_flagged(graphql: GraphQL) -> None:
    long = "Revenue beat estimates and shares soared. " + "x " * MAX_TEXT_CHARACTERS
    result = await graphql(SENTIMENT, texts=[long, "Shares soared."])

    assert result.errors is None
    assert [row["truncated"] for row in result.data["sentiment"]] == [True, False]
    assert result.data["sentiment"][0]["label"] == "POSITIVE"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["fine", "  "], "`texts[1]` is empty"),
        (["again"] * (MAX_TEXTS + 1), f"at most {MAX_TEXTS}"),
    ],
)
async def test_empty_texts_and_too_many_are_refused(
    graphql: GraphQL, texts: list[str], message: str
) -> None:
    result = await graphql(SENTIMENT, texts=texts)

    assert result.data is None
    [error] = result.errors or []
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "texts"}
    assert message in error.message


async def test_text_that_is_not_utf8_is_scored_not_a_crash(graphql: GraphQL) -> None:
    result = await graphql(SENTIMENT, texts=["Shares fell \ud800 sharply", "[]{}\x00"])

    assert result.errors is None
    assert result.data["sentiment"][0]["label"] == "NEGATIVE"


async def test_stored_posts_carry_the_models_label_and_the_stock_its_mean(
    graphql: GraphQL,
) -> None:
    result = await graphql("""{ stock(symbol: "GME") {
        sentiment(from: "2021-01-27", to: "2021-01-27")
        posts(from: "2021-01-27", to: "2021-01-27", limit: 50) {
          text sentiment sentimentLabel sentimentProbabilities { negative neutral positive }
        }
    } }""")

    assert result.errors is None
    stock = result.data["stock"]
    posts = stock["posts"]
    assert all(post["sentimentLabel"] in {"NEGATIVE", "NEUTRAL", "POSITIVE"} for post in posts)
    for post in posts:
        p = post["sentimentProbabilities"]
        assert post["sentiment"] == pytest.approx(p["positive"] - p["negative"], abs=1e-3)
    bullish = [post for post in posts if "to the moon" in post["text"]]
    assert bullish
    assert all(post["sentimentLabel"] == "POSITIVE" for post in bullish)
    # GME closed +134.8% that day: its posts read bullish on the whole.
    assert stock["sentiment"] > 0.3
