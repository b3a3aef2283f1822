"""Federation: the SDL a router composes, `_entities`, and a store cost independent of size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from nexus.stores.analytics import ChdbStore
from nexus.stores.vectors import VectorStore
from tests.micro.conftest import GraphQL

STOCK_ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Stock {
      symbol name
      candles(from: "2021-01-27", to: "2021-01-29") { date close }
      latestPrice { date close }
      postCount(from: "2021-01-01", to: "2021-01-31")
    }
  }
}
"""

POST_ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Post { id cashtags similar(limit: 3) { id author } }
  }
}
"""

EXTRA_STOCKS = [f"ZZ{number:02d}" for number in range(45)]


async def test_sdl_declares_the_entity_keys(graphql: GraphQL) -> None:
    result = await graphql("{ _service { sdl } }")

    assert result.errors is None
    sdl = result.data["_service"]["sdl"]
    assert 'type Stock @key(fields: "symbol")' in sdl
    assert 'type Post @key(fields: "id")' in sdl
    assert "type Candle @shareable" in sdl


async def test_entities_resolve_stocks_and_posts_and_unknown_keys_to_null(
    graphql: GraphQL,
) -> None:
    result = await graphql(
        """query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            __typename ... on Stock { symbol name } ... on Post { id synthetic }
          }
        }""",
        representations=[
            {"__typename": "Stock", "symbol": "GME"},
            {"__typename": "Stock", "symbol": "nok"},
            {"__typename": "Stock", "symbol": "NOPE"},
            {"__typename": "Post", "id": "reddit:eyoxvxv"},
            {"__typename": "Post", "id": "nope"},
        ],
    )

    assert result.errors is None
    assert result.data["_entities"] == [
        {"__typename": "Stock", "symbol": "GME", "name": "GameStop Corp."},
        {"__typename": "Stock", "symbol": "NOK", "name": "Nokia"},
        None,
        {"__typename": "Post", "id": "reddit:eyoxvxv", "synthetic": False},
        None,
    ]


@pytest.fixture(scope="module")
def fifty_stocks(analytics: ChdbStore, micro_load: dict[str, int]) -> Iterator[list[str]]:
    """The five demo stocks and 45 more (each with the demo's GME candles), removed after."""

    async def add() -> None:
        await analytics.insert("micro.stocks", ["symbol", "name"], [(s, s) for s in EXTRA_STOCKS])
        for symbol in EXTRA_STOCKS:
            await analytics.command(
                "INSERT INTO micro.candles SELECT {symbol:String}, date, open, high, low, close, "
                "volume FROM micro.candles FINAL WHERE symbol = 'GME'",
                {"symbol": symbol},
            )

    async def remove() -> None:
        for table in ("stocks", "candles"):
            await analytics.command(
                f"DELETE FROM micro.{table} WHERE symbol IN {{symbols:Array(String)}}",
                {"symbols": EXTRA_STOCKS},
            )

    asyncio.run(add())
    yield ["AMC", "BB", "GME", "NOK", "TSLA", *EXTRA_STOCKS]
    asyncio.run(remove())


async def _round_trips(
    graphql: GraphQL, store: Any, query: str, representations: list[dict[str, str]]
) -> tuple[int, list[Any]]:
    before = store.round_trips
    result = await graphql(query, representations=representations)
    assert result.errors is None
    return store.round_trips - before, result.data["_entities"]


async def test_stock_entities_cost_the_same_round_trips_for_5_and_50(
    graphql: GraphQL, analytics: ChdbStore, fifty_stocks: list[str]
) -> None:
    def stocks(count: int) -> list[dict[str, str]]:
        return [{"__typename": "Stock", "symbol": symbol} for symbol in fifty_stocks[:count]]

    five, few = await _round_trips(graphql, analytics, STOCK_ENTITIES, stocks(5))
    fifty, many = await _round_trips(graphql, analytics, STOCK_ENTITIES, stocks(50))

    assert five == fifty == 4  # stocks, candles, latest prices, post counts
    assert len(many) == 50
    assert all(entity["candles"] for entity in many)
    gme = next(entity for entity in few if entity["symbol"] == "GME")
    assert gme["candles"][0] == {"date": "2021-01-27", "close": 86.877502}
    assert gme["postCount"] > 0


async def test_post_entities_with_similar_cost_the_same_round_trips_for_5_and_50(
    graphql: GraphQL, analytics: ChdbStore, vectors: VectorStore
) -> None:
    latest = await graphql('{ posts(cashtag: "GME", limit: 50) { id } }')
    ids = [post["id"] for post in latest.data["posts"]]

    def posts(count: int) -> list[dict[str, str]]:
        return [{"__typename": "Post", "id": id_} for id_ in ids[:count]]

    vector_trips = vectors.round_trips
    five, _ = await _round_trips(graphql, analytics, POST_ENTITIES, posts(5))
    vector_trips_five, vector_trips = vectors.round_trips - vector_trips, vectors.round_trips
    fifty, many = await _round_trips(graphql, analytics, POST_ENTITIES, posts(50))

    # The posts, the posts of the wordings found, then the similar posts themselves.
    assert five == fifty == 3
    # The stored vectors of the posts' wordings, then one search for all of them.
    assert vector_trips_five == vectors.round_trips - vector_trips == 2
    assert all(len(entity["similar"]) == 3 for entity in many)
