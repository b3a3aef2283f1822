"""A fake Binance spot API: `GET /api/v3/klines` and the combined trade stream, in Binance's
formats, from the shipped real daily candles (BTC, ETH; USDT-quoted).

- klines: `symbol`, `interval` (1d), `startTime`/`endTime` (ms, by open time), `limit`
  (default 500, at most 1000), oldest first, as arrays of strings and integers; a missing or
  unknown symbol or interval answers 400 with Binance's `{"code": -11xx, "msg": ...}`.
- Every answer carries X-MBX-USED-WEIGHT-1M (2 per klines request, per minute); past the
  weight limit (`POST /_limits {"weight": N}`, default 6000) it answers 429 with Retry-After
  and code -1003, as Binance does.
- `/stream?streams=btcusdt@trade/...`: per stream, `TRADES` trade events (fixed ids and times,
  from 2022-11-16 00:00 UTC, the day after the last candle) with one malformed event among
  them, then the connection stays open, as the real stream does between trades.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import time
from collections import Counter
from functools import cache
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from nexus.demo import DEMO_DATA

DAY_MS = 86_400_000
TRADES = 20
MALFORMED_AFTER = 5  # the stream's sixth message is a malformed trade
FIRST_TRADE_ID = 3_000_000_000
TRADES_START_MS = 1_668_556_800_000  # 2022-11-16T00:00:00Z
PAIRS = {"BTCUSDT": "BTC", "ETHUSDT": "ETH"}


@cache
def klines() -> dict[str, list[list[Any]]]:
    """The demo's real daily candles as Binance klines, per pair."""
    by_pair: dict[str, list[list[Any]]] = {pair: [] for pair in PAIRS}
    symbols = {token: pair for pair, token in PAIRS.items()}
    with gzip.open(DEMO_DATA / "crypto_candles.csv.gz", "rt", newline="") as file:
        for row in csv.DictReader(file):
            pair = symbols.get(row["symbol"])
            if pair is None:
                continue
            day = dt.date.fromisoformat(row["date"])
            open_ms = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)
            close = float(row["close"])
            quote = float(row["volume"])
            base = quote / close
            by_pair[pair].append([
                open_ms, f"{float(row['open']):.8f}", f"{float(row['high']):.8f}",
                f"{float(row['low']):.8f}", f"{close:.8f}", f"{base:.8f}", open_ms + DAY_MS - 1,
                f"{quote:.8f}", int(base) + 1, f"{base / 2:.8f}", f"{quote / 2:.8f}", "0",
            ])
    return by_pair


def _error(
    code: int, message: str, headers: dict[str, str], status: int = 400
) -> JSONResponse:
    return JSONResponse({"code": code, "msg": message}, status_code=status, headers=headers)


def trade_messages(pair: str) -> list[str]:
    """The stream's messages for one pair: fixed trades around the last close, one malformed."""
    last_close = float(klines()[pair][-1][4])
    messages = []
    for i in range(TRADES):
        if i == MALFORMED_AFTER:
            messages.append(json.dumps({"stream": f"{pair.lower()}@trade", "data": {
                "e": "trade", "E": TRADES_START_MS, "s": pair, "t": "not-an-id", "p": "x"}}))
        price = last_close * (1 + 0.001 * ((i * 7) % 11 - 5))
        at = TRADES_START_MS + i * 500
        messages.append(json.dumps({"stream": f"{pair.lower()}@trade", "data": {
            "e": "trade", "E": at + 3, "s": pair, "t": FIRST_TRADE_ID + i, "p": f"{price:.2f}",
            "q": f"{0.01 * (i + 1):.5f}", "T": at, "m": i % 2 == 0, "M": True}}))
    return messages


def binance_fake() -> Starlette:
    limits = {"weight": 6000}
    used: Counter[int] = Counter()  # request weight per minute

    async def klines_route(request: Request) -> Response:
        minute = int(time.time() // 60)
        used[minute] += 2
        weight = {"X-MBX-USED-WEIGHT-1M": str(used[minute])}
        if used[minute] > limits["weight"]:
            return _error(-1003, "Too many requests; current limit of IP request weight per 1 "
                          f"MINUTE is {limits['weight']}. Please use WebSocket Streams for live "
                          "updates to avoid bans.",
                          {"Retry-After": str(60 - int(time.time()) % 60), **weight}, 429)
        query = request.query_params
        pair = query.get("symbol", "")
        if not pair:
            return _error(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, "
                          "or malformed.", weight)
        if pair not in PAIRS:
            return _error(-1121, "Invalid symbol.", weight)
        if query.get("interval") != "1d":
            return _error(-1120, "Invalid interval.", weight)
        try:
            start = int(query.get("startTime", 0))
            end = int(query.get("endTime", 2**62))
            limit = min(1000, max(1, int(query.get("limit", 500))))
        except ValueError:
            return _error(-1100, "Illegal characters found in a parameter.", weight)
        rows = [k for k in klines()[pair] if start <= k[0] <= end][:limit]
        return JSONResponse(rows, headers=weight)

    async def set_limits(request: Request) -> Response:
        limits.update(json.loads(await request.body()))
        used.clear()
        return JSONResponse(limits)

    async def stream(socket: WebSocket) -> None:
        await socket.accept()
        names = socket.query_params.get("streams", "").split("/")
        wanted = [n.split("@")[0].upper() for n in names if n.endswith("@trade")]
        try:
            for pair in wanted:
                if pair not in PAIRS:
                    continue
                for message in trade_messages(pair):
                    await socket.send_text(message)
            while True:  # open until the client leaves, as between real trades
                await socket.receive_text()
        except WebSocketDisconnect:
            return

    return Starlette(routes=[
        Route("/api/v3/klines", klines_route),
        Route("/_limits", set_limits, methods=["POST"]),
        WebSocketRoute("/stream", stream),
    ])
