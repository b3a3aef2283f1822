"""Binance spot ingestion against the fake exchange: candles over REST, trades over WebSocket."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import logging
import uuid
from typing import Any

import httpx
import pytest

from nexus.assembly.ingest.connectors.binance_fake import FIRST_TRADE_ID, TRADES
from nexus.assembly.ingest.connectors.binance_format import weight_pause
from nexus.assembly.ingest.connectors.binance_sink import BinanceSink
from nexus.assembly.ingest.connectors.binance_source import KLINE_KIND, PAGE
from nexus.assembly.ingest.records import Batch, Record, Window
from nexus.assembly.ingest.registry import connector
from nexus.demo import DEMO_DATA
from nexus.events import MarketTick, decode
from nexus.stores.analytics import ChdbStore
from tests.ingest_crypto.conftest import CryptoIngest

SINCE_2021 = "SELECT symbol, toString(date) AS day, close FROM {db}.candles ORDER BY symbol, day"


def shipped_closes() -> list[dict[str, object]]:
    with gzip.open(DEMO_DATA / "crypto_candles.csv.gz", "rt", newline="") as file:
        return [
            {"symbol": r["symbol"], "day": r["date"], "close": round(float(r["close"]), 8)}
            for r in csv.DictReader(file)
            if r["symbol"] in ("BTC", "ETH") and r["date"] >= "2021-01-01"
        ]


async def test_a_backfill_pages_through_every_day_and_a_rerun_adds_nothing(
    ingest: CryptoIngest,
) -> None:
    report = await ingest.run("binance")
    assert report.error is None and report.batches == 2  # one page of <= 1000 days per pair
    assert await ingest.rows(SINCE_2021) == shipped_closes()
    again = await ingest.run("binance")
    assert (again.error, again.rows) == (None, 0)
    count = await ingest.rows("SELECT count() AS n FROM {db}.candles")
    assert count[0]["n"] == len(shipped_closes())  # no duplicate even without FINAL


async def test_pages_follow_start_time_when_a_page_is_full(ingest: CryptoIngest) -> None:
    report = await ingest.run("binance", NEXUS_BINANCE_SYMBOLS="BTCUSDT")
    pages = (await ingest.hits())["/binance/api/v3/klines"]
    assert report.error is None and pages == 1
    # From 2014 the ~2,980 BTC days take two full pages of 1,000 and a last one.
    history = ingest.pipeline(NEXUS_BINANCE_SYMBOLS="BTCUSDT")
    backfill = await history.run(connector("binance"),
                                 Window(since=dt.datetime(2014, 1, 1, tzinfo=dt.UTC)))
    assert backfill.error is None
    assert (await ingest.hits())["/binance/api/v3/klines"] - pages == 3
    days = await ingest.rows("SELECT count() AS n, min(date) AS first FROM {db}.candles FINAL")
    assert str(days[0]["first"]) == "2014-09-17" and days[0]["n"] > 2000


async def test_429_5xx_and_cut_bodies_are_retried(ingest: CryptoIngest) -> None:
    await ingest.faults("/binance/api/v3/klines", "429:0", "502", "truncate", "drop")
    report = await ingest.run("binance")
    assert report.error is None and report.dead_letters == 0
    assert await ingest.rows(SINCE_2021) == shipped_closes()


async def test_an_unknown_pair_is_dead_lettered_with_the_exchanges_error(
    ingest: CryptoIngest,
) -> None:
    report = await ingest.run("binance", NEXUS_BINANCE_SYMBOLS="DOGEUSDT,ETHUSDT")
    assert report.error is None and report.dead_letters == 1
    letters = await ingest.pipeline().dead.letters("binance")
    assert "Invalid symbol." in letters[0].reason
    stored = await ingest.rows("SELECT DISTINCT symbol FROM {db}.candles")
    assert stored == [{"symbol": "ETH"}]


async def test_the_exchanges_rate_limit_answers_429_with_retry_after(
    ingest: CryptoIngest,
) -> None:
    async with httpx.AsyncClient(base_url=ingest.server.url) as client:
        await client.post("/binance/_limits", json={"weight": 2})
        ok = await client.get("/binance/api/v3/klines", params={"symbol": "BTCUSDT",
                                                                 "interval": "1d", "limit": 1})
        limited = await client.get("/binance/api/v3/klines", params={"symbol": "BTCUSDT",
                                                                      "interval": "1d"})
    assert ok.headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert limited.status_code == 429 and limited.json()["code"] == -1003
    assert int(limited.headers["Retry-After"]) <= 60
    # The source slows down before that: at 90% of the weight it waits for the next minute.
    assert weight_pause("5399", 6000, 10_000) == 0.0
    assert weight_pause("5400", 6000, 10_000) == 50.0


async def test_streamed_trades_are_stored_once_and_published_as_live_ticks(
    ingest: CryptoIngest,
) -> None:
    await ingest.run("binance")  # the previous close comes from the candles
    ticks = await ingest.bus.subscribe("market.*")
    report = await ingest.run("binance-trades")
    assert report.error is None
    assert report.rows == 2 * TRADES and report.dead_letters == 2  # one malformed per stream
    trades = await ingest.rows("SELECT symbol, count() AS n, min(trade_id) AS first, "
                               "max(price) AS high FROM {db}.trades GROUP BY symbol ORDER BY "
                               "symbol")
    assert [(t["symbol"], t["n"], t["first"]) for t in trades] == [
        ("BTC", TRADES, FIRST_TRADE_ID), ("ETH", TRADES, FIRST_TRADE_ID)
    ]
    last = dict(zip(["BTC", "ETH"], await ingest.bus.last(["market.BTC", "market.ETH"]),
                    strict=True))
    closes = {r["symbol"]: r["close"] for r in await ingest.rows(
        "SELECT symbol, close FROM {db}.candles WHERE date = '2022-11-15'")}
    for trade in trades:
        tick = decode(last[trade["symbol"]])  # type: ignore[arg-type]
        assert isinstance(tick, MarketTick)
        assert tick.previous_close == closes[trade["symbol"]]
        assert tick.high == trade["high"] and tick.at.isoformat().startswith("2022-11-16")
    first = await ticks.__aiter__().__anext__()
    assert first.channel in ("market.BTC", "market.ETH")
    await ticks.close()
    again = await ingest.run("binance-trades")  # the stream sends the same trades again
    assert (again.error, again.rows, again.events) == (None, 0, 0)


async def test_the_store_side_candle_write_stores_what_the_row_by_row_write_stores(
    analytics: ChdbStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """chDB checks and deduplicates a backfill's candles itself; a ClickHouse server's sink
    does it row by row. Both store the same candles (a day sent twice in a batch: the last
    wins) and count the same new rows, on a backfill, a re-run and one revised day; a batch
    with a malformed candle is written record by record, refusing just that one."""
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(40)]

    def candle(symbol: str, day: dt.date, close: float) -> Record:
        payload = {"symbol": symbol, "date": day.isoformat(), "open": close - 1.0,
                   "high": close + 2.0, "low": close - 3.0, "close": close, "volume": 1e6}
        return Record("binance", KLINE_KIND, f"{symbol}:{day}", payload)

    backfill = [candle(s, d, 100.0 + i) for s in ("BTC", "ETH") for i, d in enumerate(days)]
    backfill.append(candle("BTC", days[5], 555.5))  # the same day again, later in the batch
    revision = [candle("ETH", days[-1], 777.0)]
    tag = uuid.uuid4().hex[:8]
    outcomes = {}
    for in_store, database in ((True, f"t_crypto_{tag}"), (False, f"t_crypto_{tag}_rows")):
        monkeypatch.setattr(analytics, "reads_batches", in_store)
        sink = BinanceSink(analytics, database)
        await sink.ensure_schema()
        steps = []
        for batch in (backfill, backfill, revision):
            with caplog.at_level(logging.INFO, logger="nexus.ingest.binance"):
                written = await sink.write(batch)
            stored = await analytics.query(
                f"SELECT symbol, date, open, high, low, close, volume FROM {database}.candles "
                "FINAL ORDER BY symbol, date"
            )
            count = await analytics.query(f"SELECT count() AS n FROM {database}.candles")
            steps.append((written.rows, [tuple(r.values()) for r in stored], count[0]["n"]))
        outcomes[in_store] = steps
    assert outcomes[True] == outcomes[False]
    assert "record by record" not in caplog.text
    (rows, candles, count), (again, _, count_again), (revised, after, count_after) = outcomes[True]
    assert rows == count == len(candles) == 80  # one row per day, the duplicate included
    assert ("BTC", days[5], 554.5, 557.5, 552.5, 555.5, 1e6) in candles
    assert (again, count_again) == (0, 80)
    assert (revised, count_after) == (1, 81) and after[-1][5] == 777.0

    monkeypatch.setattr(analytics, "reads_batches", True)
    # Refused before the store (no price), by the store's checks (not finite, not a day):
    # the batch is written record by record and only the bad record is refused.
    for n, (field, value) in enumerate(
        (("close", "not a price"), ("close", float("nan")), ("date", "20210101"))
    ):
        bad = candle("BTC", days[0], 1.0)
        bad.payload[field] = value
        sink = BinanceSink(analytics, f"t_crypto_{tag}_bad{n}")
        await sink.ensure_schema()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="nexus.ingest.binance"):
            written = await sink.write([*backfill[:3], bad])
        assert "candles checked record by record" in caplog.text
        assert [record for record, _ in written.rejected] == [bad] and written.rows == 3


async def test_pairs_paged_at_once_yield_what_one_at_a_time_yields_and_never_run_ahead(
    ingest: CryptoIngest,
) -> None:
    """Pairs are paged concurrently (NEXUS_BINANCE_CONCURRENT_PAIRS): the records and the final
    cursor are those of paging one pair after another, each pair's days arrive in order, and
    every batch's cursor holds only days already yielded (a checkpoint never runs ahead of the
    batches before it); an unknown pair among them is one dead letter."""
    since = Window(since=dt.datetime(2015, 1, 1, tzinfo=dt.UTC))

    async def fetched(concurrent: str) -> tuple[list[Batch], dict[str, Any]]:
        batches = await ingest.fetched(
            "binance", since, NEXUS_BINANCE_SYMBOLS="BTCUSDT,DOGEUSDT,ETHUSDT",
            NEXUS_BINANCE_CONCURRENT_PAIRS=concurrent,
        )
        return batches, batches[-1].cursor

    one_by_one, last_cursor = await fetched("1")
    at_once, cursor = await fetched("4")
    assert cursor == last_cursor and set(cursor) == {"BTCUSDT", "ETHUSDT"}

    def keys(batches: list[Batch]) -> list[str]:
        return sorted(record.key for batch in batches for record in batch.records)

    assert keys(at_once) == keys(one_by_one) and len(keys(at_once)) > 2 * PAGE
    assert [len(b.failures) for b in at_once].count(1) == 1  # DOGEUSDT: -1121
    yielded: dict[str, str] = {}
    for batch in at_once:
        for record in batch.records:
            symbol, day = record.payload["symbol"], record.payload["date"]
            assert day > yielded.get(symbol, "")  # each pair's days in order
            yielded[symbol] = day
        for pair, open_ms in batch.cursor.items():
            day = dt.datetime.fromtimestamp(open_ms / 1000, dt.UTC).date().isoformat()
            assert day == yielded[pair.removesuffix("USDT")]  # no day the batches lack
