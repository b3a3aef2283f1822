"""Ethereum JSON-RPC ingestion against the fake node: what the store holds afterwards."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from nexus.assembly.ingest.checkpoints import CursorStore
from nexus.assembly.ingest.connectors.ethereum_fake import BINANCE, FIRST_BLOCK, USDT, WHALE
from nexus.assembly.ingest.connectors.evm_logs import TRANSFER
from nexus.assembly.ingest.connectors.json_rpc import JsonRpc
from nexus.assembly.ingest.deadletters import replay
from nexus.assembly.ingest.records import Batch, Window
from nexus.assembly.ingest.registry import connector
from nexus.errors import StoreUnavailable
from nexus.events import WhaleTransfer, decode
from subgraphs.crypto.onchain_ddl import canonical
from tests.ingest_crypto.conftest import TEST_HEAD, CryptoIngest

CANONICAL_TRANSFERS = (
    "SELECT block_number, log_index, block_hash, token, sender, recipient, amount, value_usd, "
    "sender_exchange, recipient_exchange FROM {db}.transfers FINAL WHERE "
)


async def transfers(ingest: CryptoIngest) -> list[dict[str, object]]:
    return await ingest.rows(
        CANONICAL_TRANSFERS + canonical(ingest.database) + " ORDER BY block_number, log_index"
    )


def expected_transfers(ingest: CryptoIngest) -> list[tuple[int, int, str, str]]:
    """(block, log index, block hash, token) of every token Transfer the fake chain holds now."""
    found = []
    for number in range(FIRST_BLOCK, ingest.chain.head + 1):
        for log in ingest.chain.logs(number):
            if log["topics"][0] == TRANSFER:
                token = "USDT" if log["address"] == USDT else "WETH"
                found.append((number, int(log["logIndex"], 16), log["blockHash"], token))
    return found


async def test_a_backfill_stores_every_transfer_and_pool_event_of_the_chain(
    ingest: CryptoIngest,
) -> None:
    report = await ingest.run("ethereum")
    assert report.error is None and report.batches == 3
    stored = await transfers(ingest)
    assert [(r["block_number"], r["log_index"], r["block_hash"], r["token"]) for r in stored] == (
        expected_transfers(ingest)
    )
    whale = next(r for r in stored if r["sender"] == WHALE)
    # USDT is valued at its peg (no USDT price in this database): 2.5M tokens = 2.5M USD.
    assert whale["amount"] == 2_500_000.0 and whale["value_usd"] == 2_500_000.0
    assert (whale["recipient"], whale["recipient_exchange"]) == (BINANCE, "Binance")
    kinds = await ingest.rows("SELECT kind, count() AS n FROM {db}.pool_events GROUP BY kind "
                              "ORDER BY kind")
    assert {r["kind"]: r["n"] for r in kinds} == {"mint": 2, "swap": 35, "sync": 20}


async def test_a_rerun_changes_nothing_and_alerts_nothing(ingest: CryptoIngest) -> None:
    first = await ingest.run("ethereum")
    before = await ingest.rows("SELECT count() AS n, sum(value_usd) AS usd FROM {db}.transfers")
    subscription = await ingest.bus.subscribe("onchain.*")
    again = await ingest.run("ethereum", NEXUS_ETHEREUM_START_BLOCK=str(FIRST_BLOCK))
    assert first.events > 0 and again.error is None
    assert (again.batches, again.rows, again.events) == (0, 0, 0)
    assert await ingest.rows("SELECT count() AS n, sum(value_usd) AS usd FROM {db}.transfers") \
        == before
    await subscription.close()


async def test_whale_events_name_the_transfer_that_crossed_the_threshold(
    ingest: CryptoIngest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """... and say when they were published: after their batch's rows were stored (the
    canonical blocks, a write's last insert), not when the sink built them."""
    stored_at: list[float] = []
    insert = ingest.analytics.insert

    async def timed_insert(table: str, columns: Any, rows: Any) -> None:
        await insert(table, columns, rows)
        if table.endswith(".chain_blocks"):
            stored_at.append(time.time())

    monkeypatch.setattr(ingest.analytics, "insert", timed_insert)
    subscription = await ingest.bus.subscribe("onchain.whales.*")
    report = await ingest.run("ethereum")
    stored = {(r["block_hash"], r["log_index"]): r for r in await transfers(ingest)}
    whales = [r for r in stored.values() if (r["value_usd"] or 0) >= 1_000_000]
    seen = []
    iterator = subscription.__aiter__()
    for _ in range(report.events):
        message = await iterator.__anext__()
        event = decode(message.event)
        assert isinstance(event, WhaleTransfer)
        assert event.published_at >= stored_at[0]
        assert message.channel == f"onchain.whales.{event.token}"
        row = stored[(event.block_hash, event.log_index)]
        assert (event.value_usd, event.sender, event.recipient) == (
            row["value_usd"], row["sender"], row["recipient"]
        )
        seen.append((event.block_hash, event.log_index))
    assert sorted(seen) == sorted(whales and [(r["block_hash"], r["log_index"]) for r in whales])
    await subscription.close()


@pytest.mark.parametrize("blocks_per_request", ["20", "500"])  # batches of 20 blocks, or one
async def test_a_reorganisation_replaces_the_orphaned_blocks_rows(
    ingest: CryptoIngest, blocks_per_request: str
) -> None:
    ingest.env["NEXUS_ETHEREUM_BLOCKS_PER_REQUEST"] = blocks_per_request
    await ingest.run("ethereum")
    orphaned = {r["block_hash"] for r in await transfers(ingest)
                if r["block_number"] > TEST_HEAD - 5}
    async with httpx.AsyncClient() as client:  # the last 5 blocks replaced, 3 new ones on top
        await client.post(f"{ingest.server.url}/ethereum/_chain", json={"reorg": 5})
        await client.post(f"{ingest.server.url}/ethereum/_chain", json={"advance": 3})
    report = await ingest.run("ethereum")
    assert report.error is None
    stored = await transfers(ingest)
    assert [(r["block_number"], r["log_index"], r["block_hash"], r["token"]) for r in stored] == (
        expected_transfers(ingest)
    )
    assert orphaned and not orphaned & {r["block_hash"] for r in stored}
    # The orphaned rows are still in the table, retired by their blocks' tombstones.
    left = await ingest.rows("SELECT count() AS n FROM {db}.transfers WHERE block_hash IN "
                             f"({', '.join(repr(h) for h in orphaned)})")
    assert left[0]["n"] > 0


async def test_a_batch_cut_short_in_the_store_shows_nothing_until_written_again(
    ingest: CryptoIngest, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ingest.analytics.insert

    async def insert_failing_on_blocks(table: str, columns: object, rows: object) -> None:
        if table.endswith(".chain_blocks"):  # the store goes away mid-batch
            raise StoreUnavailable("analytics")
        await original(table, columns, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest.analytics, "insert", insert_failing_on_blocks)
    failed = await ingest.run("ethereum")
    assert failed.error is not None
    written = await ingest.rows("SELECT count() AS n FROM {db}.transfers")
    assert written[0]["n"] > 0  # the first inserts of the batch landed...
    assert await transfers(ingest) == []  # ...and no read sees them
    monkeypatch.setattr(ingest.analytics, "insert", original)
    assert (await ingest.run("ethereum")).error is None
    stored = await transfers(ingest)
    assert len(stored) == len(expected_transfers(ingest))


@pytest.mark.parametrize("faults", [["429:0", "500", "503"], ["truncate", "drop"]])
async def test_rate_limits_errors_and_cut_bodies_are_retried(
    ingest: CryptoIngest, faults: list[str]
) -> None:
    await ingest.faults("/ethereum", *faults)
    report = await ingest.run("ethereum")
    assert report.error is None and report.dead_letters == 0
    assert len(await transfers(ingest)) == len(expected_transfers(ingest))


async def test_a_node_refusing_a_large_range_gets_smaller_ones(ingest: CryptoIngest) -> None:
    ingest.chain.max_logs = 30  # 20 blocks hold about 50 logs: -32005, then 10-block ranges
    report = await ingest.run("ethereum")
    assert report.error is None and report.batches > 3
    assert len(await transfers(ingest)) == len(expected_transfers(ingest))


@pytest.mark.parametrize(
    ("blocks", "max_logs"), [("10", None), ("20", 30)], ids=["whole ranges", "halved ranges"]
)
async def test_ranges_read_at_once_yield_what_one_range_at_a_time_yields(
    ingest: CryptoIngest, monkeypatch: pytest.MonkeyPatch, blocks: str, max_logs: int | None
) -> None:
    """Ranges are read concurrently (NEXUS_ETHEREUM_CONCURRENT_RANGES): the batches are those
    of reading one range after another, in block order, each batch's cursor the last block of
    its range; also when the node refuses large ranges (halving drops the ranges read ahead,
    which are read again)."""
    if max_logs is not None:
        ingest.chain.max_logs = max_logs
    in_flight = {"now": 0, "most": 0}
    logs = JsonRpc.logs

    async def counted(self: JsonRpc, *args: Any) -> list[dict[str, Any]]:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            return await logs(self, *args)
        finally:
            in_flight["now"] -= 1

    monkeypatch.setattr(JsonRpc, "logs", counted)

    async def fetched(concurrent: str) -> tuple[list[Batch], int]:
        in_flight["most"] = 0
        batches = await ingest.fetched(
            "ethereum", Window(), NEXUS_ETHEREUM_CONCURRENT_RANGES=concurrent,
            NEXUS_ETHEREUM_BLOCKS_PER_REQUEST=blocks,
        )
        return batches, in_flight["most"]

    one_by_one, most_alone = await fetched("1")
    at_once, most_at_once = await fetched("4")
    assert most_alone == 1 and most_at_once > 1
    assert [b.cursor for b in at_once] == [b.cursor for b in one_by_one]
    assert [[r.key for r in b.records] for b in at_once] == [
        [r.key for r in b.records] for b in one_by_one
    ]
    # 60 blocks: 6 ranges of 10; 20-block ranges (about 50 logs) refused, so more than 3
    assert len(at_once) == 6 if max_logs is None else len(at_once) > 3
    ends = [int(b.cursor["block"]) for b in at_once]
    assert ends == sorted(ends) and ends[-1] == TEST_HEAD
    for batch, end in zip(at_once, ends, strict=True):
        numbers = [int(r.payload.get("block_number", r.payload.get("number", 0)))
                   for r in batch.records]
        assert max(numbers) == end  # the range's last block (always read for its hash)


async def test_a_malformed_log_is_dead_lettered_and_the_rest_stored(
    ingest: CryptoIngest,
) -> None:
    ingest.chain.corrupt.add(FIRST_BLOCK + 10)
    report = await ingest.run("ethereum")
    assert report.error is None and report.dead_letters == 1
    letters = await ingest.pipeline().dead.letters("ethereum")
    assert "malformed log" in letters[0].reason
    assert letters[0].payload["log"]["blockNumber"] == hex(FIRST_BLOCK + 10)
    stored = {(r["block_number"], r["log_index"]) for r in await transfers(ingest)}
    assert (FIRST_BLOCK + 10, 0) not in stored
    assert len(stored) == len(expected_transfers(ingest)) - 1
    # Once the node serves the log whole, replaying the letter re-reads just that range.
    ingest.chain.corrupt.clear()
    pipeline = ingest.pipeline()
    cursor_before = await CursorStore(ingest.analytics, pipeline.state_database).load("ethereum")
    assert await replay(pipeline, letters) == (1, 0)
    assert len(await transfers(ingest)) == len(expected_transfers(ingest))
    assert await pipeline.dead.letters("ethereum") == []
    assert await CursorStore(ingest.analytics, pipeline.state_database).load("ethereum") == (
        cursor_before
    )


async def test_a_node_that_keeps_failing_ends_the_run_without_moving_the_cursor(
    ingest: CryptoIngest,
) -> None:
    await ingest.faults("/ethereum", "503", "503")
    report = await ingest.run("ethereum", NEXUS_INGEST_ATTEMPTS="2")
    assert report.error is not None and "503" in report.error
    assert await transfers(ingest) == []
    assert (await ingest.run("ethereum")).error is None
    assert len(await transfers(ingest)) == len(expected_transfers(ingest))


async def test_weth_is_valued_at_eths_last_trade_else_its_last_daily_close(
    ingest: CryptoIngest,
) -> None:
    await ingest.pipeline().sink(connector("ethereum")).ensure_schema()
    await ingest.analytics.command(
        f"INSERT INTO {ingest.database}.candles (symbol, date, open, high, low, close, volume) "
        "VALUES ('ETH', '2024-01-01', 1, 1, 1, 2000, 1), ('ETH', '2024-01-02', 1, 1, 1, 2100, 1), "
        "('BTC', '2024-01-03', 1, 1, 1, 40000, 1)"
    )
    await ingest.run("ethereum", NEXUS_ETHEREUM_MAX_BLOCKS="20")  # the first batch
    weth = "SELECT DISTINCT price_usd FROM {db}.transfers WHERE token = 'WETH'"
    assert [r["price_usd"] for r in await ingest.rows(weth)] == [2100.0]  # the last close

    # A trade, even one older than the last close's day, is the later price.
    await ingest.analytics.command(
        f"INSERT INTO {ingest.database}.trades (symbol, trade_id, at, price, quantity, "
        "buyer_maker) VALUES ('ETH', 7, '2023-12-31 10:00:00.000', 2222.5, 1, 0), "
        "('ETH', 6, '2023-12-31 11:00:00.000', 2100.25, 1, 0)"
    )
    await ingest.run("ethereum")  # the next batches, with a sink that reads prices again
    assert sorted(r["price_usd"] for r in await ingest.rows(weth)) == [2100.0, 2100.25]
