"""Decoding Ethereum logs: the ABI's words, signs and indexed topics."""

from __future__ import annotations

import pytest

from nexus.assembly.ingest.connectors.address_book import AddressBook
from nexus.assembly.ingest.connectors.ethereum_fake import topic, word
from nexus.assembly.ingest.connectors.ethereum_source import pool_values
from nexus.assembly.ingest.connectors.evm_logs import (
    TRANSFER,
    V3_BURN,
    V3_SWAP,
    LogError,
    PoolLog,
    TransferLog,
    decode,
)

POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"  # USDC/WETH 0.05% in the default book


def log(address: str, topics: list[str], data: str) -> dict[str, object]:
    return {
        "address": address, "topics": topics, "data": "0x" + data, "blockNumber": "0x10",
        "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32, "logIndex": "0x3",
        "removed": False,
    }


def test_a_v3_swap_keeps_its_signs_and_becomes_a_price_in_token_units() -> None:
    price_raw = 1 / 2000 * 10**12  # WETH (18 decimals) per USDC (6): 1/2000 WETH per USDC
    sqrt_x96 = int(price_raw**0.5 * 2**96)
    event = decode(log(POOL, [V3_SWAP, topic("0x" + "11" * 20), topic("0x" + "22" * 20)],
                       word(-4_000 * 10**6) + word(2 * 10**18) + word(sqrt_x96)
                       + word(5 * 10**18) + word(-276_400)))
    assert isinstance(event, PoolLog)
    assert (event.amount0, event.amount1, event.tick) == (-4_000 * 10**6, 2 * 10**18, -276_400)
    values = pool_values(AddressBook.from_env({}).pools[POOL], event)
    assert values["amount0"] == -4000.0 and values["amount1"] == 2.0
    assert values["sqrt_price"] ** 2 == pytest.approx(1 / 2000, rel=1e-9)  # WETH per USDC
    assert values["liquidity"] == pytest.approx(5 * 10**18 / 10**12)


def test_a_v3_burn_reads_negative_ticks_from_its_indexed_topics() -> None:
    event = decode(log(POOL, [V3_BURN, topic("0x" + "33" * 20), topic(-887_220),
                              topic(-200)], word(10**15) + word(7) + word(9)))
    assert isinstance(event, PoolLog)
    assert (event.tick_lower, event.tick_upper, event.range_liquidity) == (-887_220, -200,
                                                                          -(10**15))
    assert (event.amount0, event.amount1) == (-7, -9)


def test_an_erc20_transfer_is_read_and_an_nft_transfer_is_not() -> None:
    sender, recipient = "0x" + "44" * 20, "0x" + "55" * 20
    event = decode(log("0x" + "66" * 20, [TRANSFER, topic(sender), topic(recipient)],
                       word(12345)))
    assert event == TransferLog(event.position, sender, recipient, 12345)  # type: ignore[union-attr]
    nft = log("0x" + "66" * 20, [TRANSFER, topic(sender), topic(recipient), topic(7)], "")
    assert decode(nft) is None


@pytest.mark.parametrize(
    ("topics", "data"),
    [
        ([TRANSFER, topic("0x" + "44" * 20), topic("0x" + "55" * 20)], "12"),  # cut short
        ([TRANSFER, topic("0x" + "44" * 20), "0x" + "ff" * 32], word(1)),  # not an address
        ([V3_SWAP], word(1) * 4),  # a word missing
    ],
)
def test_a_malformed_log_is_a_log_error(topics: list[str], data: str) -> None:
    with pytest.raises(LogError):
        decode(log("0x" + "66" * 20, topics, data))
