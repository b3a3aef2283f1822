"""Binance spot sources: daily klines over REST (backfill, paged by startTime) and trades over
the WebSocket stream.

Klines: `GET /api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=..&endTime=..&limit=1000`,
oldest first; a full page means more may follow from the day after its last candle. Only
closed days are stored (today's candle still moves). The cursor is the open time of the last
stored day per pair. Each response's X-MBX-USED-WEIGHT-1M is watched: above 90% of the
minute's weight limit (NEXUS_BINANCE_WEIGHT_LIMIT, 6000) the source waits for the next minute
rather than run into 429s and an IP ban (418).

Trades: `/stream?streams=btcusdt@trade/ethusdt@trade` (the combined stream), read for
NEXUS_BINANCE_STREAM_SECONDS per run (the scheduler starts the next run), flushed as a batch
every half second; a dropped connection is reopened with backoff. The cursor is the last
trade id per pair: a trade seen again after a reconnect is skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from nexus.assembly.ingest.connectors.binance_format import (
    DAY_MS,
    WEIGHT_HEADER,
    FormatError,
    Klines,
    Trade,
    klines,
    token_of,
    trade,
    utc_days,
    weight_pause,
)
from nexus.assembly.ingest.errors import BadPayload, SourceRefused, SourceUnavailable
from nexus.assembly.ingest.http import SourceHttp
from nexus.assembly.ingest.records import Batch, Cursor, DeadLetter, Record, Window
from nexus.assembly.ingest.source import SourceConfig
from nexus.config import ConfigError

log = logging.getLogger("nexus.ingest.binance")

KLINES, TRADES = "binance", "binance-trades"
KLINE_KIND, TRADE_KIND = "binance.kline", "binance.trade"
PAGE = 1000  # the most klines one request returns
DEFAULT_START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
BODY_ATTEMPTS = 3
FLUSH_SECONDS = 0.5
FLUSH_TRADES = 500
RECONNECTS = 5


def pairs(env: Mapping[str, str], window: Window) -> list[str]:
    configured = [
        p.strip().upper() for p in env.get("NEXUS_BINANCE_SYMBOLS", "BTCUSDT,ETHUSDT").split(",")
        if p.strip()
    ]
    if not all(p.isalnum() for p in configured):
        raise ConfigError("NEXUS_BINANCE_SYMBOLS must be pairs such as BTCUSDT,ETHUSDT")
    if window.only:  # --only takes pairs or their tokens
        wanted = {o.upper() for o in window.only}
        configured = [p for p in configured if p in wanted or token_of(p) in wanted]
    return configured


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 86400, not {text!r}")
    return value


def _ms(at: dt.datetime) -> int:
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return int(aware.timestamp() * 1000)


class BinanceKlines:
    name = KLINES

    def __init__(self, config: SourceConfig) -> None:
        self.env = config.env
        text = config.env.get("NEXUS_BINANCE_WEIGHT_LIMIT", "").strip() or "6000"
        if not (text.isdigit() and 0 < int(text) <= 1_000_000):
            raise ConfigError(f"NEXUS_BINANCE_WEIGHT_LIMIT must be a whole number of request "
                              f"weight a minute, not {text!r}")
        self.weight_limit = int(text)
        text = config.env.get("NEXUS_BINANCE_CONCURRENT_PAIRS", "").strip() or "4"
        if not (text.isdigit() and 1 <= int(text) <= 32):
            raise ConfigError(f"NEXUS_BINANCE_CONCURRENT_PAIRS must be a whole number of pairs "
                              f"from 1 to 32, not {text!r}")
        self.concurrent_pairs = int(text)

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        """Each pair's pages in order, up to `concurrent_pairs` pairs paged at once (a backfill
        of many pairs waits on the exchange per pair, not per page of every pair). A batch's
        cursor holds the positions of the pages yielded so far, so it never runs ahead of
        what the batches before it carry."""
        position = {pair: int(ms) for pair, ms in cursor.items()}
        now_ms = int(time.time() * 1000)
        end_ms = _ms(window.until) if window.until else now_ms
        failures: list[DeadLetter] = []
        wanted = pairs(self.env, window)
        pages: asyncio.Queue[tuple[str, Klines | DeadLetter | Exception | None]]
        pages = asyncio.Queue(maxsize=self.concurrent_pairs)
        turns = asyncio.Semaphore(self.concurrent_pairs)

        async def page_through(pair: str) -> None:
            async with turns:
                try:
                    if window.since is not None:
                        start_ms = _ms(window.since)
                    elif pair in position:
                        start_ms = position[pair] + DAY_MS
                    else:
                        start_ms = _ms(DEFAULT_START)
                    while start_ms <= end_ms:
                        params = {"symbol": pair, "interval": "1d", "startTime": start_ms,
                                  "endTime": end_ms, "limit": PAGE}
                        try:
                            page = await self._page(http, params)
                        except SourceRefused as refused:
                            if refused.status != 400:  # 418 (IP banned), 403 (WAF): stop
                                raise
                            # A pair the exchange does not know (-1121): the others go on.
                            log.error("pair refused", extra={"source": KLINES, "pair": pair,
                                                             "reason": str(refused)})
                            await pages.put((pair, DeadLetter(
                                KLINES, "fetch", str(refused), {"request": refused.request},
                                Window(only=(pair,)).to_json())))
                            break
                        await pages.put((pair, page))
                        if len(page.open_time) < PAGE:
                            break
                        start_ms = page.open_time[-1] + DAY_MS
                except asyncio.CancelledError:
                    raise  # the run is over: nothing waits for this pair's pages
                except Exception as error:  # raised where the batches are yielded: the run ends
                    await pages.put((pair, error))
                    return
                await pages.put((pair, None))  # this pair is done

        tasks = [asyncio.create_task(page_through(pair)) for pair in wanted]
        try:
            running = len(tasks)
            while running:
                pair, item = await pages.get()
                if item is None:
                    running -= 1
                elif isinstance(item, Exception):
                    raise item
                elif isinstance(item, DeadLetter):
                    failures.append(item)
                else:
                    records = _records(pair, item, now_ms)
                    if records:
                        last = max(t for t, c in zip(item.open_time, item.close_time,
                                                     strict=True) if c < now_ms)
                        position[pair] = max(position.get(pair, last), last)
                    yield Batch(records, dict(position), failures)
                    failures = []
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if failures:
            yield Batch([], dict(position), failures)

    async def _page(self, http: SourceHttp, params: dict[str, Any]) -> Klines:
        """One page of klines; a body cut short or not in the format is asked for again."""
        for attempt in range(1, BODY_ATTEMPTS + 1):
            response = await http.get("/api/v3/klines", params)
            pause = weight_pause(response.headers.get(WEIGHT_HEADER), self.weight_limit,
                                 int(time.time() * 1000))
            if pause:
                log.warning("request weight near the limit; waiting for the next minute",
                            extra={"source": KLINES, "wait_s": round(pause, 1)})
                await asyncio.sleep(pause)
            try:
                rows = orjson.loads(response.content)
                if not isinstance(rows, list):
                    raise FormatError(f"klines are an array, not {type(rows).__name__}")
                return klines(rows)
            except (ValueError, FormatError) as error:  # FormatError is a ValueError
                if attempt == BODY_ATTEMPTS:
                    raise BadPayload(f"klines unreadable: {error}"[:300],
                                     request=http.describe("/api/v3/klines", params),
                                     excerpt=response.text) from None
                log.warning("klines unreadable; asking again",
                            extra={"source": KLINES, "attempt": attempt})
        raise AssertionError("unreachable")


def _records(pair: str, page: Klines, now_ms: int) -> list[Record]:
    """The page's closed days (today's candle still moves) as records."""
    token = token_of(pair)
    closed = [i for i, close_time in enumerate(page.close_time) if close_time < now_ms]
    days = utc_days([page.open_time[i] for i in closed])
    return [
        Record(KLINES, KLINE_KIND, f"{token}:{day}", {
            "symbol": token, "date": day, "open": page.open[i], "high": page.high[i],
            "low": page.low[i], "close": page.close[i], "volume": page.quote_volume[i],
        })
        for i, day in zip(closed, days, strict=True)
    ]


class BinanceTrades:
    name = TRADES

    def __init__(self, config: SourceConfig) -> None:
        self.env = config.env
        base = config.base_url.rstrip("/")
        self.ws_base = "ws" + base[4:] if base.startswith("http") else base
        self.seconds = _seconds(config.env, "NEXUS_BINANCE_STREAM_SECONDS", 60.0)

    async def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]:
        position = {pair: int(tid) for pair, tid in cursor.items()}
        wanted = pairs(self.env, window)
        url = f"{self.ws_base}/stream?streams=" + "/".join(f"{p.lower()}@trade" for p in wanted)
        deadline = time.monotonic() + self.seconds
        failed = 0
        while time.monotonic() < deadline:
            try:
                async with connect(url, open_timeout=10, max_size=2**20) as socket:
                    failed = 0
                    while time.monotonic() < deadline:
                        batch = await self._batch(socket, position, deadline)
                        if batch.records or batch.failures:
                            yield batch
            except (OSError, TimeoutError, WebSocketException) as error:
                failed += 1
                if failed > RECONNECTS:
                    raise SourceUnavailable(f"{TRADES}: stream unreachable ({error!r})"[:200]) \
                        from None
                wait = random.uniform(0, min(30.0, 0.5 * 2**failed))
                log.warning("trade stream dropped; reconnecting",
                            extra={"source": TRADES, "reason": type(error).__name__,
                                   "wait_s": round(wait, 2)})
                await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))

    async def _batch(
        self, socket: Any, position: dict[str, int], deadline: float
    ) -> Batch:
        """The trades that arrive in the next FLUSH_SECONDS (or FLUSH_TRADES of them)."""
        trades: list[Trade] = []
        failures: list[DeadLetter] = []
        flush_at = min(deadline, time.monotonic() + FLUSH_SECONDS)
        while len(trades) < FLUSH_TRADES:
            remaining = flush_at - time.monotonic()
            if remaining <= 0:
                break
            try:
                message = await asyncio.wait_for(socket.recv(), remaining)
            except TimeoutError:
                break
            try:
                found = trade(message)
            except FormatError as error:
                failures.append(DeadLetter(TRADES, "fetch", f"malformed trade: {error}",
                                           {"excerpt": str(message)[:500]}))
                continue
            if found is None or found.trade_id <= position.get(found.pair, -1):
                continue  # not a trade, or one stored before a reconnect
            position[found.pair] = found.trade_id
            trades.append(found)
        records = [
            Record(TRADES, TRADE_KIND, f"{t.pair}:{t.trade_id}", {
                "symbol": token_of(t.pair), "trade_id": t.trade_id, "price": t.price,
                "quantity": t.quantity, "at_ms": t.at_ms, "buyer_maker": t.buyer_maker,
            })
            for t in trades
        ]
        return Batch(records, dict(position), failures)
