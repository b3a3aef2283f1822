"""Subscriptions through the router at /graphql, with real clients, a real server and Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest

from graph.gateway import create_app
from graph.subscriptions.session import SubscriptionSettings
from nexus.events import SOCIAL_CHANNEL, MentionSpike, SocialPost, encode, mentions_channel
from tests.realtime.conftest import Live, drain, flowing
from tests.support.live import LegacyWsClient, LiveServer, TransportWsClient

MARKET = """
subscription Market($symbols: [String!]!) {
  marketUpdates(symbols: $symbols) {
    symbol price change assetClass
    token { name postCount }
    stock { name postCount(from: "2021-01-27", to: "2021-01-27") }
  }
}
"""


async def test_ticks_arrive_in_order_with_other_subgraphs_fields_per_event(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("1", MARKET, {"symbols": ["BTC", "GME"]})
    await flowing(client, live, "BTC")
    for n in range(1, 11):
        await live.tick("BTC", 100.0 + n)
        await live.tick("GME", 200.0 + n, asset_class="stock")
    received = [(await client.receive())["payload"]["data"]["marketUpdates"] for _ in range(20)]
    assert [(u["symbol"], u["price"]) for u in received] == [
        (symbol, base + n) for n in range(1, 11) for symbol, base in (("BTC", 100), ("GME", 200))
    ]
    btc, gme = received[0], received[1]
    # Token is crypto's, its postCount micro's; Stock and its postCount are micro's.
    assert btc["token"]["name"] == "Bitcoin" and isinstance(btc["token"]["postCount"], int)
    assert btc["stock"] is None
    assert gme["stock"]["name"].startswith("GameStop") and gme["stock"]["postCount"] > 0
    assert gme["token"] is None and gme["assetClass"] == "STOCK"
    await client.close()


async def test_the_legacy_graphql_ws_protocol_streams_the_same_events(live: Live) -> None:
    client = await LegacyWsClient.connect(live.server.ws_url)
    await client.subscribe("a", MARKET, {"symbols": ["BTC"]})
    await flowing(client, live, "BTC", id="a")
    await live.tick("BTC", 123.0)
    message = await client.receive()
    assert message["type"] == "data" and message["id"] == "a"
    assert message["payload"]["data"]["marketUpdates"]["price"] == 123.0
    await client.send({"id": "a", "type": "stop"})
    assert await client.receive() == {"id": "a", "type": "complete"}
    await client.close()


async def test_server_sent_events_stream_a_subscription(live: Live) -> None:
    query = 'subscription { marketUpdates(symbols: ["ETH"]) { symbol price } }'
    async with (
        httpx.AsyncClient(base_url=live.server.url, timeout=10) as http,
        http.stream(
            "POST", "/graphql", json={"query": query}, headers={"accept": "text/event-stream"}
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()

        async def publish() -> None:
            for n in range(200):
                await live.tick("ETH", 1_000.0 + n)
                await asyncio.sleep(0.05)

        publisher = asyncio.create_task(publish())
        try:
            events = []
            async for line in lines:
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == 3:
                    break
        finally:
            publisher.cancel()
    prices = [event["data"]["marketUpdates"]["price"] for event in events]
    assert prices == sorted(prices) and all(p >= 1_000 for p in prices)


async def test_a_query_over_sse_answers_once_and_completes(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.server.url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": '{ token(symbol: "BTC") { name } }'},
            headers={"accept": "text/event-stream"},
        )
    assert response.text == (
        'event: next\ndata: {"data":{"token":{"name":"Bitcoin"}}}\n\nevent: complete\ndata:\n\n'
    )


async def test_an_unknown_symbol_is_an_error_for_that_operation_only(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("bad", MARKET, {"symbols": ["BTC", "NOSUCH"]})
    error = await client.receive()
    assert error["type"] == "error" and error["id"] == "bad"
    assert error["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NOSUCH" in error["payload"][0]["message"]
    # The connection goes on: a good operation on it still streams.
    await client.subscribe("good", MARKET, {"symbols": ["BTC"]})
    await flowing(client, live, "BTC", id="good")
    await client.close()


async def test_an_unknown_field_is_a_validation_error(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("1", "subscription { weatherUpdates { rain } }")
    error = await client.receive()
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await client.close()


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        (['{"type": "connection_init", "payload": "token"}'], 4400),
        (["not json"], 4400),
        (['{"type": "connection_init"}', '{"type": "connection_init"}'], 4429),
        (['{"id": "1", "type": "subscribe", "payload": {"query": "{ tokens { symbol } }"}}'], 4401),
        (['{"type": "connection_init"}', '{"type": "teleport"}'], 4400),
        (['{"type": "connection_init", "payload": {"pad": "' + "x" * 70_000 + '"}}'], 1009),
    ],
    ids=[
        "bad-init-payload",
        "not-json",
        "second-init",
        "subscribe-before-ack",
        "unknown-type",
        "oversized",
    ],
)
async def test_protocol_violations_close_with_the_protocols_code(
    live: Live, messages: list[str], code: int
) -> None:
    bystander = await TransportWsClient.connect(live.server.ws_url)
    await bystander.subscribe("1", MARKET, {"symbols": ["BTC"]})
    await flowing(bystander, live, "BTC")
    client = await TransportWsClient.connect(live.server.ws_url, init=False)
    for message in messages:
        await client.websocket.send(message)
    closed, _ = await client.closed_with()
    assert closed == code
    # Nobody else is affected.
    await live.tick("BTC", 321.0)
    assert (await bystander.receive())["payload"]["data"]["marketUpdates"]["price"] == 321.0
    await bystander.close()


async def test_a_duplicate_operation_id_closes_with_4409(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("same", MARKET, {"symbols": ["BTC"]})
    await client.subscribe("same", MARKET, {"symbols": ["ETH"]})
    assert (await client.closed_with())[0] == 4409


async def test_no_connection_init_in_time_closes_with_4408(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url, init=False)
    assert (await client.closed_with(timeout=15))[0] == 4408


async def test_a_client_offering_no_known_subprotocol_is_refused(live: Live) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    with pytest.raises((InvalidStatus, Exception)):
        async with connect(live.server.ws_url, subprotocols=["mqtt"]) as websocket:  # type: ignore[list-item]
            await websocket.recv()


async def test_clients_of_one_subscription_share_one_stream_and_leave_nothing_behind(
    live: Live,
) -> None:
    clients = [await TransportWsClient.connect(live.server.ws_url) for _ in range(3)]
    for client in clients:
        await client.subscribe("1", MARKET, {"symbols": ["USDT"]})
    await asyncio.sleep(0.3)
    assert live.router.hub is not None and len(live.router.hub.shared) == 1
    await flowing(clients[0], live, "USDT")
    for client in clients[1:]:  # they got the same warm-up ticks
        await drain(client)
    await live.tick("USDT", 42.0)
    for client in clients:
        assert (await client.receive())["payload"]["data"]["marketUpdates"]["price"] == 42.0
    for client in clients:
        await client.close()
    for _ in range(100):  # disconnects are noticed asynchronously
        if not live.router.hub.shared and not live.bus.fanout.subscribers:
            break
        await asyncio.sleep(0.05)
    assert live.router.hub.shared == {}
    assert live.bus.fanout.subscribers == set()  # the bus subscriptions were closed
    assert not live.bus.fanout.patterns


async def test_a_slow_client_is_dropped_and_others_keep_receiving(live: Live) -> None:
    fast = await TransportWsClient.connect(live.server.ws_url)
    slow = await TransportWsClient.connect(live.server.ws_url, receive_buffer=4096)
    # About 5 kB per event, so the slow client's socket buffers fill after a few hundred.
    big = (
        'subscription { marketUpdates(symbols: ["ETH"]) { symbol price token { '
        'candles(from: "2021-01-01", to: "2021-02-28") { open high low close volume } } } }'
    )
    await fast.subscribe("1", big)
    await slow.subscribe("1", big)
    await flowing(fast, live, "ETH")
    received = 0

    async def read_fast() -> None:
        nonlocal received
        while True:
            await fast.receive()
            received += 1

    reader = asyncio.create_task(read_fast())
    events = 2_000
    for n in range(events):
        await live.tick("ETH", float(n))
        if n % 20 == 0:  # publish at the pace the fast client reads (the bus drops overflow)
            async with asyncio.timeout(10):
                while received < n - 100:
                    await asyncio.sleep(0.01)
    # The slow client (never reading, tiny buffer) overflowed its queue: closed with 1013.
    code, reason = await slow.closed_with(timeout=30)
    assert code == 1013 and "Slow consumer" in reason
    async with asyncio.timeout(20):
        while received < events:
            await asyncio.sleep(0.05)
    reader.cancel()
    assert received == events  # the fast one got every event
    await fast.close()


async def test_keep_alive_pings(live: Live) -> None:
    settings = SubscriptionSettings(keepalive_seconds=0.2)
    async with LiveServer(create_app(live.router, subscriptions=settings)) as server:
        client = await TransportWsClient.connect(server.ws_url)
        raw = await asyncio.wait_for(client.websocket.recv(), 5)
        assert json.loads(raw) == {"type": "ping"}
        await client.close()


async def test_alerts_reach_only_the_clients_that_asked_for_them(live: Live) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe(
        "spikes",
        'subscription { mentionSpikes(symbols: ["GME"], minRatio: 4) '
        "{ symbol mentions ratio stock { name } } }",
    )
    await client.subscribe(
        "posts",
        'subscription { influencerPosts(symbols: ["GME"], minFollowers: 100000) '
        "{ author authorFollowers cashtags synthetic } }",
    )
    await client.subscribe(
        "moves",
        'subscription { priceAlerts(symbols: ["BTC"], thresholdPercent: 5) '
        "{ symbol direction update { price changePercent } } }",
    )
    await asyncio.sleep(0.5)
    now = 1.0

    def spike(ratio: float) -> dict[str, object]:
        return encode(
            MentionSpike(
                symbol="GME",
                mentions=int(10 * ratio),
                baseline=10.0,
                ratio=ratio,
                window_seconds=3600.0,
                at=_at(),
                published_at=now,
            )
        )

    def post(author: str, followers: int, tags: tuple[str, ...]) -> dict[str, object]:
        return encode(
            SocialPost(
                id=author,
                source="synthetic",
                author=author,
                author_followers=followers,
                text="$GME",
                cashtags=tags,
                sentiment=0.5,
                synthetic=True,
                created_at=_at(),
                published_at=now,
            )
        )

    for _ in range(3):  # the bus subscriptions settle asynchronously: repeat a little
        await live.publisher.publish(mentions_channel("GME"), spike(2.0))  # under minRatio
        await live.publisher.publish(mentions_channel("GME"), spike(6.0))
        await live.publisher.publish(SOCIAL_CHANNEL, post("small", 500, ("GME",)))
        await live.publisher.publish(SOCIAL_CHANNEL, post("big_amc", 500_000, ("AMC",)))
        await live.publisher.publish(SOCIAL_CHANNEL, post("big_gme", 500_000, ("GME",)))
        await live.tick("BTC", 102.0)  # +2%: no alert
        await live.tick("BTC", 107.0)  # +7%: alert
        await asyncio.sleep(0.2)
    seen: dict[str, list[dict[str, object]]] = {"spikes": [], "posts": [], "moves": []}
    while True:
        try:
            message = await client.receive(timeout=1.0)
        except TimeoutError:
            break
        seen[message["id"]].append(next(iter(message["payload"]["data"].values())))
    assert seen["spikes"] and all(s["ratio"] == 6.0 for s in seen["spikes"])
    assert seen["spikes"][0]["stock"]["name"].startswith("GameStop")
    assert seen["posts"] and {p["author"] for p in seen["posts"]} == {"big_gme"}
    # One alert: after firing it re-arms only when the move falls back under half the threshold.
    moves = seen["moves"]
    assert moves and all(m["direction"] == "UP" for m in moves)
    assert {m["update"]["price"] for m in moves} == {107.0}  # +2% never alerts
    await client.close()


def _at() -> dt.datetime:
    return dt.datetime(2021, 1, 27, 16, 0, tzinfo=dt.UTC)
