"""Whale transfers end to end: Ethereum ingestion (against the fake node, publishing on Redis as
another process would) -> the router's `whaleTransfers` subscription over WebSocket."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from starlette.applications import Starlette
from starlette.routing import Mount

from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK, FakeChain, ethereum_fake
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.stream import InProcessRecordStream
from nexus.events import WhaleTransfer, encode, whale_channel
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto.onchain_ddl import canonical
from tests.realtime.conftest import Live
from tests.support.live import LiveServer, TransportWsClient

WHALES = """subscription { whaleTransfers(tokens: ["USDT"]) {
  token amount valueUsd from to toExchange blockNumber logIndex } }"""


def warm_up() -> dict[str, object]:
    """A whale event outside any chain (block 0): published until the stream is live."""
    return encode(WhaleTransfer(
        token="USDT", token_address="0x" + "0" * 40, block_number=0, block_hash="0x" + "0" * 64,
        log_index=0, transaction_hash="0x" + "0" * 64, sender="0x" + "0" * 40,
        recipient="0x" + "0" * 40, amount=1.0, price_usd=1.0, value_usd=1.0,
        sender_exchange=None, recipient_exchange=None,
        at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), published_at=time.time(),
    ))


async def test_ingested_whales_reach_a_router_subscriber(live: Live, analytics: ChdbStore) -> None:
    client = await TransportWsClient.connect(live.server.ws_url)
    await client.subscribe("1", WHALES)
    for _ in range(200):  # until the subscription is live on Redis
        await live.publisher.publish(whale_channel("USDT"), warm_up())
        try:
            await client.receive(timeout=0.05)
            break
        except TimeoutError:
            continue
    while True:  # warm-ups still in flight
        try:
            await client.receive(timeout=0.3)
        except TimeoutError:
            break
    database = f"crypto_whales_{uuid.uuid4().hex[:10]}"
    node = Starlette(routes=[Mount("/ethereum", app=ethereum_fake(FakeChain(
        head=FIRST_BLOCK + 59)))])
    async with LiveServer(node) as server:
        pipeline = Pipeline(
            analytics, live.publisher, InProcessRecordStream(),
            AnalyticsDeadLetters(analytics, f"{database}_state"),
            {"NEXUS_INGEST_FAKE_URL": server.url, "NEXUS_ETHEREUM_START_BLOCK": str(FIRST_BLOCK)},
            databases={"crypto": database}, state_database=f"{database}_state",
        )
        report = await pipeline.run(connector("ethereum"))
    assert report.error is None
    stored = await analytics.query(
        f"SELECT block_number, log_index, value_usd FROM {database}.transfers FINAL "
        f"WHERE token = 'USDT' AND value_usd >= 1000000 AND {canonical(database)} "
        "ORDER BY block_number, log_index"
    )
    received = [(await client.receive())["payload"]["data"]["whaleTransfers"] for _ in stored]
    assert [(w["blockNumber"], w["logIndex"], w["valueUsd"]) for w in received] == [
        (r["block_number"], r["log_index"], r["value_usd"]) for r in stored
    ]
    assert {w["toExchange"] for w in received} == {"Binance", None}
    await client.close()
    await analytics.command(f"DROP DATABASE IF EXISTS {database}")
    await analytics.command(f"DROP DATABASE IF EXISTS {database}_state")
