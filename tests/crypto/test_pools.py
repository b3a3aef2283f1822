"""Uniswap v2 and v3 demo pools (synthetic, seeded from real closes) through GraphQL."""

from __future__ import annotations

import math
from typing import Any

import pytest

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import pool_engine, subgraph
from tests.support.graphql import execute


@pytest.fixture
def stores(analytics: ChdbStore) -> Stores:
    return Stores(settings=Settings.from_env({}), analytics=analytics)


async def close(stores: Stores, symbol: str, day: str) -> float:
    rows = await stores.require_analytics().query(
        "SELECT close FROM crypto.candles WHERE symbol = {s:String} AND date = {d:Date}",
        {"s": symbol, "d": day},
    )
    return float(rows[0]["close"])


async def test_demo_pools_are_synthetic_and_priced_at_the_real_last_closes(
    stores: Stores,
) -> None:
    response = await execute(subgraph, stores, """{ pools { id protocol token0 token1 fee
      synthetic seededOn price reserve0 reserve1 tick liquidity
      ranges { tickLower tickUpper } } }""")
    pools = {p["id"]: p for p in response["data"]["pools"]}
    assert set(pools) == {"uniswap-v2-eth-usdt", "uniswap-v2-btc-usdt", "uniswap-v3-eth-usdt-0.3",
                          "uniswap-v3-btc-usdt-0.3"}
    eth = await close(stores, "ETH", "2022-11-15") / await close(stores, "USDT", "2022-11-15")
    v2, v3 = pools["uniswap-v2-eth-usdt"], pools["uniswap-v3-eth-usdt-0.3"]
    assert all(p["synthetic"] and p["seededOn"] == "2022-11-15" for p in pools.values())
    assert v2["price"] == pytest.approx(eth) and v3["price"] == pytest.approx(eth)
    assert v2["reserve1"] / v2["reserve0"] == pytest.approx(eth)
    assert v2["tick"] is None and v3["reserve0"] is None
    assert v3["tick"] == math.floor(math.log(eth) / math.log(1.0001))
    assert len(v3["ranges"]) == 3 and all(
        r["tickLower"] <= v3["tick"] < r["tickUpper"] for r in v3["ranges"]
    )


async def test_v2_quotes_both_ways_follow_the_constant_product(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ pool(id: "uniswap-v2-eth-usdt") {
      reserve0 reserve1
      sell: quotes(sell: TOKEN0, amounts: [1, 1000]) {
        sell buy amountsOut priceImpacts pricesAfter }
      buy: quotes(sell: TOKEN1, amounts: [1250000]) { sell buy amountsOut priceImpacts }
    } }""")
    pool = response["data"]["pool"]
    x, y = pool["reserve0"], pool["reserve1"]
    for amount, out in zip([1, 1000], pool["sell"]["amountsOut"], strict=True):
        assert out == pytest.approx(amount * 0.997 * y / (x + amount * 0.997))
        assert (x + amount) * (y - out) >= x * y
    assert pool["sell"]["priceImpacts"][0] == pytest.approx(0.003, abs=2e-4)
    assert pool["sell"]["priceImpacts"][1] > pool["sell"]["priceImpacts"][0]
    assert (pool["buy"]["sell"], pool["buy"]["buy"]) == ("USDT", "ETH")
    paid = 1250000 * 0.997
    assert pool["buy"]["amountsOut"][0] == pytest.approx(paid * x / (y + paid))


async def test_v3_swaps_stop_at_the_active_range_and_positions_hold_both_tokens(
    stores: Stores,
) -> None:
    response = await execute(subgraph, stores, """{ pool(id: "uniswap-v3-eth-usdt-0.3") {
      price tick liquidity ranges { tickLower tickUpper }
      quotes(sell: TOKEN0, amounts: [1, 1000000]) {
        amountsInUsed amountsOut withinRange pricesAfter }
      inRange: position(tickLower: 70000, tickUpper: 72000, liquidity: 1000000) { amount0 amount1 }
      below: position(tickLower: 80000, tickUpper: 81000, liquidity: 1000000) { amount0 amount1 }
    } }""")
    pool = response["data"]["pool"]
    quotes = pool["quotes"]
    assert quotes["withinRange"] == [True, False]
    assert quotes["amountsInUsed"][0] == 1 and quotes["amountsInUsed"][1] < 1000000
    lower = max(r["tickLower"] for r in pool["ranges"] if r["tickLower"] <= pool["tick"])
    assert quotes["pricesAfter"][1] == pytest.approx(1.0001**lower)
    s = math.sqrt(pool["price"])
    sa, sb = math.sqrt(1.0001**70000), math.sqrt(1.0001**72000)
    assert pool["inRange"]["amount0"] == pytest.approx(1e6 * (sb - s) / (s * sb))
    assert pool["inRange"]["amount1"] == pytest.approx(1e6 * (s - sa))
    assert pool["below"]["amount1"] == 0 and pool["below"]["amount0"] > 0


async def test_impermanent_loss_between_two_days_from_real_prices(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ pool(id: "uniswap-v2-btc-usdt") {
      impermanentLoss(from: "2021-01-01", to: "2021-12-31") { priceFrom priceTo priceRatio loss }
    } }""")
    loss = response["data"]["pool"]["impermanentLoss"]
    start = await close(stores, "BTC", "2021-01-01") / await close(stores, "USDT", "2021-01-01")
    end = await close(stores, "BTC", "2021-12-31") / await close(stores, "USDT", "2021-12-31")
    r = end / start
    assert (loss["priceFrom"], loss["priceTo"]) == (pytest.approx(start), pytest.approx(end))
    assert loss["loss"] == pytest.approx(2 * math.sqrt(r) / (1 + r) - 1)


async def test_every_quote_of_a_request_is_one_engine_call_per_protocol(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counted(name: str) -> Any:
        real = getattr(pool_engine, name)

        def wrapper(**kwargs: Any) -> Any:
            calls.append(name)
            return real(**kwargs)

        return wrapper

    for name in ("constant_product_amount_out", "concentrated_liquidity_swap"):
        monkeypatch.setattr(pool_engine, name, counted(name))
    response = await execute(subgraph, stores, """{ pools {
      a: quotes(sell: TOKEN0, amounts: [1, 2, 3]) { amountsOut }
      b: quotes(sell: TOKEN1, amounts: [1000]) { amountsOut } } }""")
    assert "errors" not in response and len(response["data"]["pools"]) == 4
    assert sorted(calls) == ["concentrated_liquidity_swap", "constant_product_amount_out"]


async def test_bad_pool_input_is_refused_and_other_fields_resolve(stores: Stores) -> None:
    response = await execute(subgraph, stores, """{ v2: pool(id: "uniswap-v2-eth-usdt") {
        negative: quotes(sell: TOKEN0, amounts: [1, -2]) { amountsOut }
        empty: quotes(sell: TOKEN0, amounts: []) { amountsOut }
        position(tickLower: 0, tickUpper: 10, liquidity: 1) { amount0 }
        noData: impermanentLoss(from: "2023-01-01", to: "2023-02-01") { loss }
        reversed: impermanentLoss(from: "2022-01-01", to: "2021-02-01") { loss }
        id }
      v3: pool(id: "uniswap-v3-eth-usdt-0.3") {
        position(tickLower: 10, tickUpper: 0, liquidity: 1) { amount0 } }
      missing: pool(id: "nope") { id } }""")
    errors = {tuple(e["path"][-2:]): e["extensions"] for e in response["errors"]}
    assert set(errors) == {("v2", "negative"), ("v2", "empty"), ("v2", "position"),
                           ("v2", "noData"), ("v2", "reversed"), ("v3", "position")}
    assert {e["code"] for e in errors.values()} == {"BAD_USER_INPUT"}
    assert errors[("v2", "negative")]["index"] == 1
    assert response["data"]["v2"]["id"] == "uniswap-v2-eth-usdt"
    assert response["data"]["missing"] is None
