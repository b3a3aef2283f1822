"""Tokens have a social footprint in the demo: synthetic posts tag $BTC and $ETH, so
`Token.sentiment` (micro's, on crypto's token through the router) answers."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from graph.in_process import router_for_subgraphs
from graph.router import Router
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.vectors import VectorStore
from subgraphs.crypto import subgraph as crypto
from subgraphs.micro import subgraph as micro
from subgraphs.micro.demo import token_bars
from subgraphs.micro.generator import DailyBar, synthetic_posts

HALF_YEAR = '(from: "2021-01-01", to: "2021-06-30")'


@pytest.fixture
def router(analytics: ChdbStore, vectors: VectorStore, micro_load: dict[str, int]) -> Router:
    stores = Stores(settings=Settings.from_env({}), analytics=analytics, vectors=vectors)
    return router_for_subgraphs([crypto, micro], stores)


async def test_token_sentiment_answers_from_stored_posts(
    router: Router, analytics: ChdbStore
) -> None:
    response = await router.execute(f"""{{
      btc: token(symbol: "BTC") {{ name postCount{HALF_YEAR} sentiment{HALF_YEAR}
        posts(limit: 5) {{ synthetic cashtags text }} }}
      eth: token(symbol: "ETH") {{ postCount{HALF_YEAR} sentiment{HALF_YEAR} }}
    }}""")

    assert "errors" not in response, response.get("errors")
    btc, eth = response["data"]["btc"], response["data"]["eth"]
    assert btc["name"] == "Bitcoin"  # crypto's field beside micro's footprint
    for token in (btc, eth):
        assert token["postCount"] > 500
        assert -1 <= token["sentiment"] <= 1
    for post in btc["posts"]:
        assert post["synthetic"] is True and "BTC" in post["cashtags"] and "$BTC" in post["text"]
    # The aggregate is the mean over the stored posts tagging the token.
    stored = await analytics.query(
        "SELECT avg(sentiment) AS mean, count() AS n FROM micro.posts "
        "WHERE has(cashtags, 'BTC') AND toDate(created_at) BETWEEN '2021-01-01' AND '2021-06-30'"
    )
    assert btc["postCount"] == stored[0]["n"]
    assert btc["sentiment"] == pytest.approx(stored[0]["mean"], abs=1e-4)


async def test_token_posts_follow_its_price_moves(router: Router) -> None:
    response = await router.execute(f"""{{ token(symbol: "BTC") {{
      candles(from: "2020-12-31", to: "2021-06-30") {{ date close }}
      mentionVolume{HALF_YEAR} {{ date posts meanSentiment }} }} }}""")

    assert "errors" not in response, response.get("errors")
    token = response["data"]["token"]
    closes = {c["date"]: c["close"] for c in token["candles"]}
    days = sorted(closes)
    moves = {day: closes[day] / closes[before] - 1 for before, day in pairwise(days)}
    mood = {d["date"]: d["meanSentiment"] for d in token["mentionVolume"]}
    up = [mood[d] for d, r in moves.items() if r > 0.05 and d in mood]
    down = [mood[d] for d, r in moves.items() if r < -0.05 and d in mood]
    assert len(up) >= 5 and len(down) >= 5
    assert np.mean(up) > np.mean(down)


def test_token_posts_leave_the_stock_posts_unchanged() -> None:
    import datetime as dt

    stocks = [DailyBar("GME", dt.date(2021, 1, 27), 86.9, 3.7e8)]
    alone = synthetic_posts(stocks)
    assert synthetic_posts(stocks) == alone
    tokens = synthetic_posts(token_bars(), stream=1)
    assert {post.cashtags[0] for post in tokens} == {"BTC", "ETH"}
    assert all(post.synthetic and post.id.startswith("synthetic:") for post in tokens)
    # Same day, same symbol index: the token stream draws different posts than the stock one.
    assert synthetic_posts(stocks, stream=1) != alone
