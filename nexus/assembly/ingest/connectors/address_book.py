"""The Ethereum addresses ingestion knows: ERC-20 tokens (symbol, decimals, how to price them),
Uniswap pools (protocol, pair, fee) and exchange wallets (for inflows and outflows).

The defaults below are mainnet contracts and a few exchange hot wallets as public explorers
label them; NEXUS_ETHEREUM_ADDRESSES_FILE names a JSON file of the same shape to use instead:

    {"tokens":    {"0xdac1...": {"symbol": "USDT", "decimals": 6, "price": "USDT"}},
     "pools":     {"0x0d4a...": {"protocol": "uniswap_v2", "token0": "WETH", "token1": "USDT",
                                 "fee": 0.003}},
     "exchanges": {"0x28c6...": "Binance"}}

`price` is the symbol whose last trade or daily close values the token in US dollars (WETH is
priced as ETH); `peg_usd` is used when no price is on record (USDC: 1.0). A token given without
`symbol` or `decimals` (`"0x...": {}`) is ingested too: the source asks the token contract
(`symbol()`, `decimals()` through `eth_call`) before reading logs. Pools name their tokens by
symbol, so a pool's tokens must be listed with theirs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus.config import ConfigError

ADDRESSES_FILE = "NEXUS_ETHEREUM_ADDRESSES_FILE"

DEFAULT: dict[str, Any] = {
    "tokens": {
        "0xdac17f958d2ee523a2206206994597c13d831ec7": {
            "symbol": "USDT", "decimals": 6, "price": "USDT", "peg_usd": 1.0,
        },
        "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": {
            "symbol": "USDC", "decimals": 6, "price": "USDC", "peg_usd": 1.0,
        },
        "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": {
            "symbol": "WETH", "decimals": 18, "price": "ETH",
        },
        "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": {
            "symbol": "WBTC", "decimals": 8, "price": "BTC",
        },
    },
    "pools": {
        "0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc": {
            "protocol": "uniswap_v2", "token0": "USDC", "token1": "WETH", "fee": 0.003,
        },
        "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852": {
            "protocol": "uniswap_v2", "token0": "WETH", "token1": "USDT", "fee": 0.003,
        },
        "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640": {
            "protocol": "uniswap_v3", "token0": "USDC", "token1": "WETH", "fee": 0.0005,
        },
        "0xcbcdf9626bc03e24f779434178a73a0b4bad62ed": {
            "protocol": "uniswap_v3", "token0": "WBTC", "token1": "WETH", "fee": 0.003,
        },
    },
    "exchanges": {
        "0x28c6c06298d514db089934071355e5743bf21d60": "Binance",
        "0x21a31ee1afc51d94c2efccaa2092ad1028285549": "Binance",
        "0xa9d1e08c7793af67e9d92fe308d5697fb81d3e43": "Coinbase",
        "0xda9dfa130df4de4673b89022ee50ff26f6ea73cf": "Kraken",
    },
}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    address: str
    symbol: str
    decimals: int
    price_symbol: str
    peg_usd: float | None


@dataclass(frozen=True, slots=True)
class PoolInfo:
    address: str
    protocol: str
    token0: TokenInfo
    token1: TokenInfo
    fee: float


@dataclass(frozen=True, slots=True)
class AddressBook:
    tokens: Mapping[str, TokenInfo]  # by contract address, lower case
    pools: Mapping[str, PoolInfo]
    exchanges: Mapping[str, str]  # wallet address -> exchange name
    # Tokens listed without symbol or decimals: address -> what the file gave (price, peg_usd)
    unresolved: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def contracts(self) -> list[str]:
        """Every contract whose logs ingestion reads."""
        return sorted({*self.tokens, *self.pools, *self.unresolved})

    def learned(self, address: str, symbol: str, decimals: int) -> AddressBook:
        """The book with an unresolved token's metadata, as its contract told it."""
        given = self.unresolved[address]
        token = TokenInfo(
            address, symbol.upper(), decimals, str(given.get("price") or symbol).upper(),
            float(given["peg_usd"]) if given.get("peg_usd") is not None else None,
        )
        rest = {a: t for a, t in self.unresolved.items() if a != address}
        return AddressBook({**self.tokens, address: token}, self.pools, self.exchanges, rest)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AddressBook:
        path = env.get(ADDRESSES_FILE, "").strip()
        if not path:
            return cls.parse(DEFAULT)
        try:
            document = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"{ADDRESSES_FILE} must name a readable JSON file ({type(error).__name__})"
            ) from None
        return cls.parse(document)

    @classmethod
    def parse(cls, document: Any) -> AddressBook:
        try:
            listed = document.get("tokens", {})
            unresolved = {
                _checked(address): dict(t) for address, t in listed.items()
                if "symbol" not in t or "decimals" not in t
            }
            tokens = {
                _checked(address): TokenInfo(
                    _checked(address), str(t["symbol"]).upper(), int(t["decimals"]),
                    str(t.get("price", t["symbol"])).upper(),
                    float(t["peg_usd"]) if t.get("peg_usd") is not None else None,
                )
                for address, t in listed.items() if _checked(address) not in unresolved
            }
            by_symbol = {token.symbol: token for token in tokens.values()}
            pools = {
                _checked(address): PoolInfo(
                    _checked(address), str(p["protocol"]), by_symbol[str(p["token0"]).upper()],
                    by_symbol[str(p["token1"]).upper()], float(p["fee"]),
                )
                for address, p in document.get("pools", {}).items()
            }
            exchanges = {
                _checked(address): str(name) for address, name in
                document.get("exchanges", {}).items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigError(
                f"{ADDRESSES_FILE}: not an address book ({type(error).__name__}: {error}); see "
                "the README for its shape"
            ) from None
        for pool in pools.values():
            if pool.protocol not in ("uniswap_v2", "uniswap_v3"):
                raise ConfigError(f"{ADDRESSES_FILE}: unknown pool protocol {pool.protocol!r}")
        return cls(tokens, pools, exchanges, unresolved)


def _checked(address: str) -> str:
    text = str(address).lower()
    if len(text) != 42 or not text.startswith("0x"):
        raise ValueError(f"not an address: {address!r}")
    int(text, 16)
    return text
