"""Stocks: metadata, real daily candles, latest price, case-insensitive symbols."""

from __future__ import annotations

import pytest

from tests.micro.conftest import GraphQL

STOCK = """
query Stock($symbol: String!, $from: Date, $to: Date) {
  stock(symbol: $symbol) {
    symbol name
    candles(from: $from, to: $to) { date open high low close volume }
    latestPrice { date close previousClose changePercent }
  }
}
"""


async def test_stocks_lists_the_five_demo_stocks_with_their_names(graphql: GraphQL) -> None:
    result = await graphql("{ stocks { symbol name } }")

    assert result.errors is None
    assert result.data == {
        "stocks": [
            {"symbol": "AMC", "name": "AMC Entertainment Holdings"},
            {"symbol": "BB", "name": "BlackBerry"},
            {"symbol": "GME", "name": "GameStop Corp."},
            {"symbol": "NOK", "name": "Nokia"},
            {"symbol": "TSLA", "name": "Tesla"},
        ]
    }


async def test_gme_candle_on_the_squeeze_day_is_the_real_split_adjusted_close(
    graphql: GraphQL,
) -> None:
    result = await graphql(STOCK, symbol="gme", **{"from": "2021-01-27", "to": "2021-01-27"})

    assert result.errors is None
    stock = result.data["stock"]
    assert (stock["symbol"], stock["name"]) == ("GME", "GameStop Corp.")
    assert stock["candles"] == [
        {
            "date": "2021-01-27",
            "open": 88.707497,
            "high": 95.0,
            "low": 62.25,
            "close": 86.877502,
            "volume": 373586800.0,
        }
    ]


async def test_candles_cover_the_range_in_date_order(graphql: GraphQL) -> None:
    result = await graphql(STOCK, symbol="BB")

    assert result.errors is None
    dates = [candle["date"] for candle in result.data["stock"]["candles"]]
    assert len(dates) == 21
    assert dates == sorted(dates)
    assert dates[0].startswith("2021-01")
    assert dates[-1].startswith("2021-02")


async def test_latest_price_is_the_last_close_and_its_change(graphql: GraphQL) -> None:
    result = await graphql(STOCK, symbol="GME", **{"from": "2022-09-30"})

    assert result.errors is None
    latest = result.data["stock"]["latestPrice"]
    assert (latest["date"], latest["close"], latest["previousClose"]) == (
        "2022-09-30",
        25.129999,
        25.459999,
    )
    assert latest["changePercent"] == pytest.approx((25.129999 / 25.459999 - 1) * 100)


async def test_an_unknown_symbol_is_null_without_error(graphql: GraphQL) -> None:
    result = await graphql(STOCK, symbol="NOPE")

    assert result.errors is None
    assert result.data == {"stock": None}
