"""The crypto graph over what ingestion stored: transfers (a Relay connection), whale transfers
(query and subscription), exchange flows, pools from chain events, the live price and the
market clock. Each test ingests from the fake servers into a database of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from nexus.assembly.ingest.connectors.ethereum_fake import BINANCE, FIRST_BLOCK, USDT, WETH_USDT_V2
from nexus.assembly.ingest.connectors.ethereum_sink import POOL_EVENT_COLUMNS
from nexus.assembly.ingest.connectors.evm_logs import TRANSFER, V2_SYNC
from nexus.events import CLOCK_CHANNEL, MarketClockTick, encode
from nexus.stores.bus import InProcessBus
from subgraphs.crypto import subgraph
from subgraphs.crypto.ddl import statements
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.onchain_ddl import canonical
from subgraphs.crypto.repository import CryptoRepository
from tests.ingest_crypto.conftest import CryptoIngest

ETH_CLOSE = 2000.0


def context(ingest: CryptoIngest, bus: InProcessBus | None = None) -> CryptoContext:
    return CryptoContext(CryptoRepository(ingest.analytics, ingest.database), bus or ingest.bus)


async def execute(ingest: CryptoIngest, query: str, **variables: Any) -> dict[str, Any]:
    result = await subgraph.schema.execute(query, variable_values=variables,
                                           context_value=context(ingest))
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [{"message": e.message, "code": (e.extensions or {}).get("code")}
                              for e in result.errors]
    return response


async def ingested_chain(ingest: CryptoIngest) -> None:
    """The fake chain ingested, with an ETH close on record so WETH is valued at 2000 USD."""
    for statement in statements(ingest.database):
        await ingest.analytics.command(statement)
    await ingest.analytics.insert(
        f"{ingest.database}.candles", ["symbol", "date", "open", "high", "low", "close",
                                        "volume"],
        [["ETH", dt.date(2023, 12, 31), ETH_CLOSE, ETH_CLOSE, ETH_CLOSE, ETH_CLOSE, 1.0]],
    )
    await ingest.analytics.insert(f"{ingest.database}.tokens", ["symbol", "name", "kind"],
                                  [["BTC", "Bitcoin", "coin"], ["ETH", "Ether", "coin"]])
    report = await ingest.run("ethereum")
    assert report.error is None


TRANSFERS = """query($first: Int!, $after: String, $tokens: [String!], $min: Float) {
  transfers(first: $first, after: $after, tokens: $tokens, minValueUsd: $min) {
    edges { cursor node { blockNumber logIndex token from to amount valueUsd toExchange } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_transfers_page_newest_first_without_gaps_or_repeats(ingest: CryptoIngest) -> None:
    await ingested_chain(ingest)
    stored = await ingest.rows("SELECT block_number, log_index FROM {db}.transfers FINAL WHERE "
                               + canonical(ingest.database)
                               + " ORDER BY block_number DESC, log_index DESC")
    seen, after, pages = [], None, 0
    while True:
        page = (await execute(ingest, TRANSFERS, first=25, after=after))["data"]["transfers"]
        pages += 1
        seen += [(e["node"]["blockNumber"], e["node"]["logIndex"]) for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(r["block_number"], r["log_index"]) for r in stored]
    assert pages == -(-len(stored) // 25)


async def test_transfers_filter_by_token_and_value_and_whales_default_to_a_million(
    ingest: CryptoIngest,
) -> None:
    await ingested_chain(ingest)
    weth = (await execute(ingest, TRANSFERS, first=100, tokens=["weth"]))["data"]["transfers"]
    assert {e["node"]["token"] for e in weth["edges"]} == {"WETH"}
    assert all(e["node"]["valueUsd"] == e["node"]["amount"] * ETH_CLOSE for e in weth["edges"])
    big = (await execute(ingest, TRANSFERS, first=100, min=1_000_000.0))["data"]["transfers"]
    whales = (await execute(ingest, "{ whaleTransfers(first: 100) { edges { node { "
                            "blockNumber logIndex valueUsd } } } }"))["data"]["whaleTransfers"]
    assert [e["node"]["blockNumber"] for e in whales["edges"]] == [
        e["node"]["blockNumber"] for e in big["edges"]
    ]
    assert big["edges"] and all(e["node"]["valueUsd"] >= 1_000_000 for e in big["edges"])


async def test_bad_pagination_and_filters_are_bad_user_input(ingest: CryptoIngest) -> None:
    await ingested_chain(ingest)
    for query in (
        "{ transfers(first: 0) { edges { cursor } } }",
        "{ transfers(first: 101) { edges { cursor } } }",
        '{ transfers(after: "not-a-cursor") { edges { cursor } } }',
        '{ transfers(address: "0x123") { edges { cursor } } }',
        "{ transfers(minValueUsd: -1) { edges { cursor } } }",
        '{ exchangeFlows(from: "2024-01-02T00:00:00Z", to: "2024-01-01T00:00:00Z") '
        "{ exchange } }",
        '{ exchangeFlows(from: "2000-01-01T00:00:00Z", to: "2024-01-01T00:00:00Z", '
        "period: HOUR) { exchange } }",
    ):
        response = await execute(ingest, query)
        assert response["data"] is None, query
        assert [e["code"] for e in response["errors"]] == ["BAD_USER_INPUT"], query


def expected_binance_flows(ingest: CryptoIngest) -> tuple[float, float]:
    """Inflow and outflow of Binance's address on the fake chain, valued as ingested."""
    inflow = outflow = 0.0
    for number in range(FIRST_BLOCK, ingest.chain.head + 1):
        for log in ingest.chain.logs(number):
            if log["topics"][0] != TRANSFER:
                continue
            usd = int(log["data"], 16) / 10**6 if log["address"] == USDT \
                else int(log["data"], 16) / 10**18 * ETH_CLOSE
            if log["topics"][2].endswith(BINANCE[2:]):
                inflow += usd
            if log["topics"][1].endswith(BINANCE[2:]):
                outflow += usd
    return inflow, outflow


async def test_exchange_flows_sum_the_known_addresses_transfers_per_period(
    ingest: CryptoIngest,
) -> None:
    await ingested_chain(ingest)
    response = await execute(ingest, """{ exchangeFlows(from: "2024-01-01T00:00:00Z",
        to: "2024-01-02T00:00:00Z", period: DAY) { exchange periodStart periodEnd inflowUsd
        outflowUsd netflowUsd inflows outflows } }""")
    (flow,) = response["data"]["exchangeFlows"]
    inflow, outflow = expected_binance_flows(ingest)
    assert flow["exchange"] == "Binance"
    assert (flow["periodStart"], flow["periodEnd"]) == ("2024-01-01T00:00:00+00:00",
                                                       "2024-01-02T00:00:00+00:00")
    assert flow["inflowUsd"] == inflow and flow["outflowUsd"] == outflow
    assert flow["netflowUsd"] == inflow - outflow and flow["outflows"] == 3


async def test_queries_default_to_the_market_clocks_now(ingest: CryptoIngest) -> None:
    await ingested_chain(ingest)
    query = "{ marketClock { now source speed } exchangeFlows { exchange inflowUsd } }"
    wall = (await execute(ingest, query))["data"]
    assert wall["marketClock"]["source"] == "WALL_CLOCK"
    assert wall["exchangeFlows"] == []  # the chain's day (2024-01-01) is not this week
    replayed = MarketClockTick(dt.datetime(2024, 1, 3, 12, tzinfo=dt.UTC), 1440.0, time.time())
    await ingest.bus.publish(CLOCK_CHANNEL, encode(replayed), retain=True)
    clocked = (await execute(ingest, query))["data"]
    assert clocked["marketClock"] == {"now": "2024-01-03T12:00:00+00:00", "source": "REPLAY",
                                      "speed": 1440.0}
    assert [f["exchange"] for f in clocked["exchangeFlows"]] == ["Binance"]


async def test_pools_read_from_chain_events_show_their_last_reserves(
    ingest: CryptoIngest,
) -> None:
    await ingested_chain(ingest)
    response = await execute(ingest, f'{{ pool(id: "{WETH_USDT_V2}") {{ id protocol token0 '
                             "token1 synthetic address reserve0 reserve1 price blockNumber } }")
    pool = response["data"]["pool"]
    last_sync = next(
        log for number in range(ingest.chain.head, FIRST_BLOCK - 1, -1)
        for log in reversed(ingest.chain.logs(number))
        if log["address"] == WETH_USDT_V2 and log["topics"][0] == V2_SYNC
    )
    reserve_weth = int(last_sync["data"][2:66], 16) / 10**18
    reserve_usdt = int(last_sync["data"][66:], 16) / 10**6
    assert (pool["protocol"], pool["token0"], pool["token1"], pool["synthetic"]) == (
        "UNISWAP_V2", "WETH", "USDT", False)
    assert (pool["reserve0"], pool["reserve1"]) == (reserve_weth, reserve_usdt)
    assert pool["price"] == reserve_usdt / reserve_weth
    assert pool["blockNumber"] == int(last_sync["blockNumber"], 16)
    listed = await execute(ingest, "{ pools { id synthetic } }")
    assert {"id": WETH_USDT_V2, "synthetic": False} in listed["data"]["pools"]


async def test_v3_liquidity_is_the_last_swap_moved_by_mints_and_burns_in_range_since(
    ingest: CryptoIngest,
) -> None:
    for statement in statements(ingest.database):
        await ingest.analytics.command(statement)
    pool = "0x" + "ab" * 20
    await ingest.analytics.insert(
        f"{ingest.database}.chain_pools", ["address", "protocol", "token0", "token1", "fee"],
        [[pool, "uniswap_v3", "WETH", "USDT", 0.003]],
    )
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    await ingest.analytics.insert(
        f"{ingest.database}.chain_blocks", ["number", "hash", "at", "version"],
        [[number, f"0xb{number}", at, 1] for number in range(1, 5)],
    )

    def event(block: int, index: int, kind: str, **values: Any) -> list[Any]:
        row = {"block_number": block, "block_hash": f"0xb{block}", "log_index": index,
               "transaction_hash": f"0xt{block}{index}", "at": at, "pool": pool, "kind": kind,
               "amount0": 0.0, "amount1": 0.0, "reserve0": None, "reserve1": None,
               "sqrt_price": None, "liquidity": None, "tick": None, "tick_lower": None,
               "tick_upper": None, "range_liquidity": 0.0, **values}
        return [row[column] for column in POOL_EVENT_COLUMNS]

    def position(block: int, index: int, kind: str, lower: int, upper: int, delta: float):
        return event(block, index, kind, tick_lower=lower, tick_upper=upper,
                     range_liquidity=delta)

    await ingest.analytics.insert(f"{ingest.database}.pool_events", POOL_EVENT_COLUMNS, [
        position(1, 0, "mint", -100, 100, 999.0),  # before the swap: in its liquidity already
        event(2, 0, "swap", sqrt_price=1.0, liquidity=1000.0, tick=10),
        position(3, 0, "mint", 0, 20, 50.0),  # holds tick 10: active
        position(3, 1, "mint", 20, 40, 70.0),  # above the price: not active
        position(4, 0, "burn", -10, 15, -20.0),  # holds tick 10: active
        position(4, 1, "burn", 10, 30, -5.0),  # tickLower 10 <= 10 < 30: active
    ])

    response = await execute(ingest, f'{{ pool(id: "{pool}") {{ protocol liquidity }} }}')

    assert response["data"]["pool"] == {"protocol": "UNISWAP_V3", "liquidity": 1025.0}


async def test_the_whale_subscription_receives_an_ingested_transfer(
    ingest: CryptoIngest,
) -> None:
    for statement in statements(ingest.database):
        await ingest.analytics.command(statement)
    stream = await subgraph.schema.subscribe(
        '''subscription { whaleTransfers(tokens: ["usdt"], minValueUsd: 2000000) {
             token from to amount valueUsd toExchange blockNumber blockHash } }''',
        context_value=context(ingest),
    )
    first = asyncio.ensure_future(stream.__anext__())  # type: ignore[union-attr]
    async with asyncio.timeout(10):
        while not ingest.bus.subscribers:
            await asyncio.sleep(0.01)
    assert (await ingest.run("ethereum")).error is None
    result = await asyncio.wait_for(first, 10)
    assert result.errors is None
    alert = result.data["whaleTransfers"]
    stored = await ingest.rows(
        "SELECT block_hash, value_usd, recipient FROM {db}.transfers FINAL WHERE "
        f"token = 'USDT' AND value_usd >= 2000000 AND {canonical(ingest.database)} "
        "ORDER BY block_number, log_index LIMIT 1")
    assert (alert["blockHash"], alert["valueUsd"], alert["to"]) == tuple(stored[0].values())
    assert (alert["token"], alert["toExchange"], alert["amount"]) == ("USDT", "Binance",
                                                                     2_500_000.0)
    await stream.aclose()  # type: ignore[union-attr]


async def test_token_live_price_is_the_last_tick_next_to_the_last_close(
    ingest: CryptoIngest,
) -> None:
    await ingested_chain(ingest)
    await ingest.run("binance")
    assert (await ingest.run("binance-trades")).error is None
    query = '{ token(symbol: "BTC") { latestPrice { date close } livePrice { price at source '
    query += "previousClose } } }"
    token = (await execute(ingest, query))["data"]["token"]
    last = await ingest.rows("SELECT price FROM {db}.trades WHERE symbol = 'BTC' "
                             "ORDER BY trade_id DESC LIMIT 1")
    assert token["latestPrice"]["date"] == "2022-11-15"
    assert token["livePrice"]["price"] == last[0]["price"]
    assert token["livePrice"]["source"] == "TICK"
    assert token["livePrice"]["previousClose"] == token["latestPrice"]["close"]
    # A process whose bus has no tick (restarted) reads the last stored trade.
    fresh = await subgraph.schema.execute(query, context_value=context(ingest, InProcessBus()))
    assert fresh.data is not None
    assert fresh.data["token"]["livePrice"]["source"] == "TRADE"
    assert fresh.data["token"]["livePrice"]["price"] == last[0]["price"]
