"""The crypto subgraph on the embedded store loaded with the real demo data."""

from __future__ import annotations

import pytest

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import subgraph
from subgraphs.crypto.demo import load_demo
from tests.support.graphql import execute


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


async def test_btc_candles_are_the_real_daily_prices(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ token(symbol: "btc") { symbol name kind '
        'candles(from: "2021-01-27", to: "2021-01-28") { date open high low close volume } } }',
    )
    token = response["data"]["token"]
    assert (token["symbol"], token["name"], token["kind"]) == ("BTC", "Bitcoin", "coin")
    assert token["candles"] == [
        {
            "date": "2021-01-27",
            "open": 32564.029297,
            "high": 32564.029297,
            "low": 29367.138672,
            "close": 30432.546875,
            "volume": 62576762015.0,
        },
        {
            "date": "2021-01-28",
            "open": 30441.041016,
            "high": 33858.3125,
            "low": 30023.207031,
            "close": 33466.097656,
            "volume": 76517157706.0,
        },
    ]


async def test_latest_price_is_the_last_close_with_its_change(stores: Stores) -> None:
    response = await execute(
        subgraph,
        stores,
        '{ token(symbol: "ETH") { latestPrice { date close previousClose changePercent } } }',
    )
    price = response["data"]["token"]["latestPrice"]
    assert price["date"] == "2022-11-15" and price["close"] == 1251.736206
    assert price["changePercent"] == pytest.approx((1251.736206 / price["previousClose"] - 1) * 100)


async def test_an_unknown_symbol_is_null_and_nothing_else(stores: Stores) -> None:
    assert await execute(subgraph, stores, '{ token(symbol: "DOGE") { symbol } }') == {
        "data": {"token": None}
    }


async def test_bad_dates_are_bad_user_input(stores: Stores) -> None:
    response = await execute(
        subgraph, stores, '{ token(symbol: "BTC") { candles(from: "2022-02-30") { close } } }'
    )
    assert [e["extensions"]["code"] for e in response["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("count", [5, 50])
async def test_fifty_watchlist_tokens_cost_the_same_round_trips_as_five(
    stores: Stores, analytics: ChdbStore, count: int
) -> None:
    symbols = ["BTC", "ETH", "USDT", "btc", "NOPE"] * (count // 5)
    before = analytics.round_trips
    response = await execute(
        subgraph,
        stores,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Token { symbol "
        'latestPrice { close } candles(from: "2022-01-01", to: "2022-01-31") { close } } } }',
        {"r": [{"__typename": "Token", "symbol": s} for s in symbols]},
    )
    entities = response["data"]["_entities"]
    assert len(entities) == count and entities[4] is None
    assert entities[3]["symbol"] == "BTC" and len(entities[0]["candles"]) == 31
    assert analytics.round_trips - before == 3  # tokens, candles, latest prices


async def test_loading_twice_adds_no_rows(analytics: ChdbStore) -> None:
    before = await analytics.query("SELECT count() AS n FROM crypto.candles")
    loaded = await load_demo(analytics)
    after = await analytics.query("SELECT count() AS n FROM crypto.candles")
    assert before == after == [{"n": loaded["crypto.candles"]}]
