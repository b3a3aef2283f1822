"""The known-addresses file: its entries label what ingestion stores; a bad one is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexus.assembly.ingest.connectors.address_book import DEFAULT, AddressBook
from nexus.assembly.ingest.connectors.ethereum_fake import USDT, WALLETS
from nexus.config import ConfigError
from tests.ingest_crypto.conftest import CryptoIngest


async def test_a_custom_file_labels_exchange_wallets(ingest: CryptoIngest, tmp_path: Path) -> None:
    book = {**DEFAULT, "exchanges": {WALLETS[0]: "Kraken"}}
    path = tmp_path / "addresses.json"
    path.write_text(json.dumps(book))
    report = await ingest.run("ethereum", NEXUS_ETHEREUM_ADDRESSES_FILE=str(path))
    assert report.error is None
    labels = await ingest.rows(
        "SELECT sender, sender_exchange, recipient_exchange, count() AS n FROM {db}.transfers "
        "WHERE sender_exchange != '' OR recipient_exchange != '' "
        "GROUP BY sender, sender_exchange, recipient_exchange"
    )
    assert {(r["sender"], r["sender_exchange"]) for r in labels if r["sender_exchange"]} == {
        (WALLETS[0], "Kraken")
    }
    assert all(r["recipient_exchange"] in ("", "Kraken") for r in labels)  # Binance unknown now


async def test_a_token_listed_without_metadata_is_asked_for_it_on_chain(
    ingest: CryptoIngest, tmp_path: Path
) -> None:
    tokens = {**DEFAULT["tokens"], USDT: {"price": "USDT", "peg_usd": 1.0},  # no symbol/decimals
              "0x" + "5e" * 20: {}}  # a contract without symbol()/decimals(): reverts
    path = tmp_path / "addresses.json"
    # A pool names its tokens by symbol: those stay listed in full (USDT's pool is left out).
    pools = {a: p for a, p in DEFAULT["pools"].items() if "USDT" not in (p["token0"], p["token1"])}
    path.write_text(json.dumps({**DEFAULT, "tokens": tokens, "pools": pools}))

    report = await ingest.run("ethereum", NEXUS_ETHEREUM_ADDRESSES_FILE=str(path))

    assert report.error is None
    usdt = await ingest.rows(
        "SELECT token, amount, amount_raw, price_usd FROM {db}.transfers "
        f"WHERE token_address = '{USDT}'"
    )
    assert usdt  # stored, under the symbol and with the decimals the contract told
    assert all(r["token"] == "USDT" for r in usdt)
    assert all(r["amount"] == int(r["amount_raw"]) / 10**6 for r in usdt)
    assert all(r["price_usd"] == 1.0 for r in usdt)  # the file's peg still applies


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"tokens": {"0x12": {"symbol": "X", "decimals": 6}}}),
        json.dumps({"pools": {"0x" + "1" * 40: {"protocol": "uniswap_v2", "token0": "NOPE",
                                                "token1": "USDT", "fee": 0.003}}}),
        json.dumps({**DEFAULT, "pools": {"0x" + "1" * 40: {
            "protocol": "curve", "token0": "USDT", "token1": "USDC", "fee": 0.0004}}}),
    ],
)
def test_a_bad_file_is_a_config_error_naming_the_variable(
    tmp_path: Path, document: str
) -> None:
    path = tmp_path / "addresses.json"
    path.write_text(document)
    with pytest.raises(ConfigError, match="NEXUS_ETHEREUM_ADDRESSES_FILE"):
        AddressBook.from_env({"NEXUS_ETHEREUM_ADDRESSES_FILE": str(path)})
