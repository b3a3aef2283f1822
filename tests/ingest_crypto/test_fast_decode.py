"""The batch decoders (Ethereum logs a batch at a time, Binance klines a column at a time) give
exactly what the per-item reference gives: the same events and rows, the same errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import orjson
import pytest

from nexus.assembly.ingest.connectors.address_book import AddressBook
from nexus.assembly.ingest.connectors.binance_fake import klines as fake_klines
from nexus.assembly.ingest.connectors.binance_format import (
    FormatError,
    Kline,
    kline,
    klines,
    utc_days,
)
from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK, FakeChain, topic, word
from nexus.assembly.ingest.connectors.ethereum_source import pool_values
from nexus.assembly.ingest.connectors.evm_logs import (
    TRANSFER,
    V2_BURN,
    V2_MINT,
    V2_SWAP,
    V2_SYNC,
    V3_BURN,
    V3_MINT,
    V3_SWAP,
    LogError,
    PoolLog,
    decode,
    decode_logs,
)
from nexus.assembly.ingest.records import Record

POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"  # USDC/WETH 0.05%, v3
V2_POOL = "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852"  # WETH/USDT, v2
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
ALICE, BOB = "0x" + "a1" * 20, "0x" + "b0" * 20


def reference(logs: list[Any]) -> list[Any]:
    """`decode` of each log, its LogError's text in place of raising."""
    out: list[Any] = []
    for item in logs:
        try:
            out.append(decode(item))
        except LogError as error:
            out.append(("LogError", str(error)))
    return out


def fast(logs: list[Any]) -> list[Any]:
    return [("LogError", str(e)) if isinstance(e, LogError) else e for e in decode_logs(logs)]


def chain_logs(blocks: int = 300) -> list[dict[str, Any]]:
    """The fake node's logs of `blocks` blocks, as JSON carries them (one reorganised block)."""
    chain = FakeChain(head=FIRST_BLOCK + blocks - 1)
    chain.forks[FIRST_BLOCK + 7] = 1
    logs = [item for n in range(FIRST_BLOCK, FIRST_BLOCK + blocks) for item in chain.logs(n)]
    return orjson.loads(orjson.dumps(logs))


def log(address: str, topics: list[str], data: str, **fields: Any) -> dict[str, Any]:
    return {
        "address": address, "topics": topics, "data": "0x" + data, "blockNumber": "0x10",
        "blockHash": "0x" + "ab" * 32, "blockTimestamp": "0x6592b500",
        "transactionHash": "0x" + "cd" * 32, "logIndex": "0x3", "removed": False, **fields,
    }


# Well-formed logs at the edges of their ABI types.
EDGES = [
    # v3 Swap: negative int256 amounts, sqrtPriceX96 at uint160's top, uint128 liquidity, tick min
    log(POOL, [V3_SWAP, topic(ALICE), topic(BOB)],
        word(-(2**255)) + word(-1) + word(2**160 - 1) + word(2**128 - 1) + word(-887_272)),
    log(POOL, [V3_SWAP, topic(ALICE), topic(BOB)],
        word(2**255 - 1) + word(0) + word(4295128739) + word(0) + word(887_272)),
    # v3 Mint/Burn: negative ticks in indexed topics (sign-extended to 256 bits)
    log(POOL, [V3_MINT, topic(ALICE), topic(-887_270), topic(-10)],
        word(int(ALICE, 16)) + word(10**20) + word(1) + word(2)),
    log(POOL, [V3_BURN, topic(ALICE), topic(-60), topic(887_220)], word(5) + word(6) + word(7)),
    log(V2_POOL, [V2_SWAP, topic(ALICE), topic(BOB)], word(0) + word(10**18) + word(3) + word(0)),
    log(V2_POOL, [V2_SYNC], word(2**112 - 1) + word(0)),
    log(V2_POOL, [V2_MINT, topic(ALICE)], word(1) + word(2)),
    log(V2_POOL, [V2_BURN, topic(ALICE), topic(BOB)], word(3) + word(4)),
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(2**256 - 1)),
    # upper-case hex everywhere: hashes, topics, address come out lower case
    log(USDT.upper().replace("0X", "0x"), [TRANSFER.upper().replace("0X", "0x"),
                                          topic(ALICE).upper().replace("0X", "0x"),
                                          topic(BOB)], word(7).upper(),
        blockHash="0x" + "AB" * 32, transactionHash="0x" + "CD" * 32),
    # a log the node marks removed is still decoded here (the source skips it)
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(9), removed=True),
    # events this module does not read
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB), topic(7)], ""),  # ERC-721: None
    log(USDT, ["0x" + "12" * 32], word(1)),
]

# Logs `decode` refuses, or accepts in ways a strict check would not.
ODD = [
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], "12"),  # data cut short
    log(USDT, [TRANSFER, topic(ALICE), "0x" + "ff" * 32], word(1)),  # not an address
    log(POOL, [V3_SWAP], word(1) * 4),  # a word missing
    log(POOL, [V3_MINT, topic(ALICE), topic(1)], word(1) * 4),  # an indexed tick missing
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(1), blockHash=None),
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(1), transactionHash="0x" + "zz" * 32),
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(1), logIndex="3"),
    log(USDT, [TRANSFER, "0x" + ALICE[2:].lstrip("0"), topic(BOB)], word(1)),  # short topic: ok
    log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], "1_" + word(1)[2:]),  # int() takes "_"
    log(USDT, [], word(1)),
    {k: v for k, v in log(USDT, [TRANSFER, topic(ALICE), topic(BOB)], word(1)).items()
     if k != "address"},  # no address: ""
    "not a log",
]


def test_a_batch_of_real_format_logs_decodes_as_log_by_log() -> None:
    logs = chain_logs()
    decoded = fast(logs)
    assert decoded == reference(logs)
    assert sum(isinstance(e, PoolLog) for e in decoded) > 100  # the sample covers pools too


@pytest.mark.parametrize("edge", EDGES + ODD)
def test_an_edge_case_decodes_alone_and_inside_a_batch_as_log_by_log(edge: Any) -> None:
    assert fast([edge]) == reference([edge])
    batch = [*chain_logs(40), edge, *chain_logs(10)]
    assert fast(batch) == reference(batch)


def test_the_v3_edge_values_come_out_signed_and_whole() -> None:
    swap, top = decode_logs(EDGES[:2])
    assert isinstance(swap, PoolLog) and isinstance(top, PoolLog)
    assert (swap.amount0, swap.amount1, swap.tick) == (-(2**255), -1, -887_272)
    assert (swap.sqrt_price_x96, swap.liquidity) == (2**160 - 1, 2**128 - 1)
    assert (top.amount0, top.tick) == (2**255 - 1, 887_272)


def test_pool_values_keep_the_reference_formula() -> None:
    pool = AddressBook.from_env({}).pools[POOL]
    d0, d1 = pool.token0.decimals, pool.token1.decimals
    for event in [e for e in decode_logs(EDGES[:4] + chain_logs(60)) if isinstance(e, PoolLog)
                  and e.protocol == "uniswap_v3"]:
        values = pool_values(pool, event)
        assert values["amount0"] == event.amount0 / 10**d0
        assert values["amount1"] == event.amount1 / 10**d1
        liquidity = 10 ** ((d0 + d1) / 2)
        assert values["range_liquidity"] == event.range_liquidity / liquidity
        for name in ("tick", "tick_lower", "tick_upper"):
            raw = getattr(event, name)
            expected = None if raw is None else round(
                raw + (d0 - d1) * math.log(10) / math.log(1.0001))
            assert values[name] == expected
        if event.sqrt_price_x96 is not None:
            assert values["sqrt_price"] == event.sqrt_price_x96 / 2**96 * 10 ** ((d0 - d1) / 2)
            assert values["liquidity"] == event.liquidity / liquidity


def kline_reference(rows: Any) -> Any:
    try:
        parsed = [kline(row) for row in rows]
    except FormatError as error:
        return ("FormatError", str(error))
    return [(k.open_time, k.open, k.high, k.low, k.close, k.quote_volume, k.close_time)
            for k in parsed]


def kline_fast(rows: Any) -> Any:
    try:
        page = klines(rows)
    except FormatError as error:
        return ("FormatError", str(error))
    return list(zip(page.open_time, page.open, page.high, page.low, page.close,
                    page.quote_volume, page.close_time, strict=True))


def row(open_time: int = 1_609_459_200_000, *prices: str) -> list[Any]:
    o, h, low, c, v = prices or ("29000.5", "29600", "28800.01", "29300", "12.5")
    return [open_time, o, h, low, c, v, open_time + 86_399_999, "366000.25", 1000, "6", "1", "0"]


ODD_KLINES = [
    row(0, "-0", "0", "0", "0", "0"),  # negative zero is no negative price
    row(1, "1e3", "1E3", "1000", "1000", "0.0"),
    row(2, " 5 ", "5", "5", "5", "5"),  # float() takes spaces
    row(3, "nan", "1", "1", "1", "1"),
    row(4, "inf", "inf", "1", "1", "1"),
    row(5, "-1", "1", "1", "1", "1"),
    row(6, "1e308", "1e308", "1e308", "1e308", "1e308"),  # near the top of float
    row(7, "2", "1", "1", "1", "1"),  # high under open
    row(8, "1", "2", "3", "1", "1"),  # low over open
    row(9, "x", "1", "1", "1", "1"),
    [True, "1", "1", "1", "1", "1", 2, "1"],
    [1, 1.0, "1", "1", "1", "1", 2, "1"],  # a number, not a decimal string
    [-1, "1", "1", "1", "1", "1", 2, "1"],
    [1, "1", "1", "1", "1", "1", 2],  # short
    {"open": "1"},
]


def test_real_klines_read_as_row_by_row() -> None:
    for rows in fake_klines().values():
        page = orjson.loads(orjson.dumps(rows))
        assert kline_fast(page) == kline_reference(page)
    assert kline_fast([]) == kline_reference([]) == []
    assert kline_fast("nope") == kline_reference("nope")


@pytest.mark.parametrize("odd", ODD_KLINES)
def test_an_odd_kline_reads_alone_and_inside_a_page_as_row_by_row(odd: Any) -> None:
    assert kline_fast([odd]) == kline_reference([odd])
    page = [row(1_609_459_200_000 + i * 86_400_000) for i in range(20)]
    page.insert(7, odd)
    assert kline_fast(page) == kline_reference(page)


def test_days_are_the_utc_days_of_the_reference_at_every_boundary() -> None:
    times = [0, 1, 86_399_999, 86_400_000, 951_782_400_000 - 1, 951_782_400_000,  # 2000-02-29
             1_609_459_199_999, 1_609_459_200_000, 253_402_300_799_999]
    expected = [Kline(t, 0, 0, 0, 0, 0, 0).date.isoformat() for t in times]
    assert utc_days(times) == expected
    assert utc_days([*times, 253_402_300_800_000][:-1]) == expected
    with pytest.raises(ValueError, match="year"):
        utc_days([253_402_300_800_000])  # past 9999: the reference's own error
    assert dt.date.fromisoformat(utc_days([1_609_459_200_000])[0]) == dt.date(2021, 1, 1)


def test_a_record_is_still_a_frozen_value_that_travels_as_json() -> None:
    payload = {"symbol": "BTC", "close": 1.5}
    record = Record("binance", "binance.kline", "BTC:2021-01-01", payload)
    assert record == Record("binance", "binance.kline", "BTC:2021-01-01", dict(payload))
    assert Record.from_json(orjson.loads(orjson.dumps(record.to_json()))) == record
    assert dataclasses.replace(record, key="BTC:2021-01-02").key == "BTC:2021-01-02"
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.key = "changed"  # type: ignore[misc]
