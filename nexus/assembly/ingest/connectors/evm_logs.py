"""Ethereum event logs as `eth_getLogs` returns them, decoded: ERC-20 `Transfer` and Uniswap
v2 `Sync`/`Swap`/`Mint`/`Burn` and v3 `Swap`/`Mint`/`Burn`.

A log is `{address, topics, data, blockNumber, blockHash, transactionHash, logIndex, removed}`
(hex strings). topics[0] is keccak-256 of the event's signature; indexed arguments follow as
32-byte topics and the rest are ABI-encoded in `data`, one 32-byte word each for these events
(Solidity ABI spec, "Events"). Signed integers (v3 amounts, ticks) are two's complement.

Amounts stay integers here (raw token units); the connector applies the decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple

# topic0 = keccak256 of the canonical signature.
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# Transfer(address indexed from, address indexed to, uint256 value)
V2_SYNC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
# Sync(uint112 reserve0, uint112 reserve1)
V2_SWAP = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
# Swap(address indexed sender, uint amount0In, uint amount1In, uint amount0Out,
#      uint amount1Out, address indexed to)
V2_MINT = "0x4c209b5fc8ad50758f13e2e1088ba56a560dff690a1c6fef26394f4c03821c4f"
# Mint(address indexed sender, uint amount0, uint amount1)
V2_BURN = "0xdccd412f0b1252819cb1fd330b93224ca42612892bb3f4f789976e6d81936496"
# Burn(address indexed sender, uint amount0, uint amount1, address indexed to)
V3_SWAP = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
# Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1,
#      uint160 sqrtPriceX96, uint128 liquidity, int24 tick)
V3_MINT = "0x7a53080ba414158be7ec69b987b5fb7d07dee101fe85488f0853ae16239d0bde"
# Mint(address sender, address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,
#      uint128 amount, uint256 amount0, uint256 amount1)
V3_BURN = "0x0c396cd989a39f4459b5fa1aed6a9a8dcdbc45908acfd67e028cd568da98982c"
# Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper, uint128 amount,
#      uint256 amount0, uint256 amount1)

POOL_TOPICS = (V2_SYNC, V2_SWAP, V2_MINT, V2_BURN, V3_SWAP, V3_MINT, V3_BURN)


class LogError(ValueError):
    """A log whose shape does not match its event's ABI."""


# The decoded logs are named tuples: one is built per log, and a tuple is the cheapest
# immutable record to build (a frozen dataclass sets each field through object.__setattr__).
class LogPosition(NamedTuple):
    block_number: int
    block_hash: str
    log_index: int
    transaction_hash: str
    address: str  # the emitting contract, lower case


class TransferLog(NamedTuple):
    position: LogPosition
    sender: str
    recipient: str
    value: int  # raw token units


class PoolLog(NamedTuple):
    """One Uniswap event. Amounts are signed from the pool's side: what it received is
    positive, what it paid out negative (v3's convention; v2 swaps are mapped to it)."""

    position: LogPosition
    protocol: str  # uniswap_v2 | uniswap_v3
    kind: str  # sync | swap | mint | burn
    amount0: int = 0
    amount1: int = 0
    reserve0: int | None = None  # v2 Sync
    reserve1: int | None = None
    sqrt_price_x96: int | None = None  # v3 Swap
    liquidity: int | None = None  # v3 Swap: active liquidity after it
    tick: int | None = None
    tick_lower: int | None = None  # v3 Mint/Burn
    tick_upper: int | None = None
    range_liquidity: int = 0  # v3 Mint (+) / Burn (-) liquidity on the range


def _hex_int(value: Any, name: str) -> int:
    if not (isinstance(value, str) and value.startswith("0x")):
        raise LogError(f"{name} is not a 0x hex quantity: {value!r}")
    try:
        return int(value, 16)
    except ValueError:
        raise LogError(f"{name} is not hex: {value!r}") from None


def _hash(value: Any, name: str) -> str:
    if not (isinstance(value, str) and len(value) == 66 and value.startswith("0x")):
        raise LogError(f"{name} is not a 32-byte 0x hash: {value!r}")
    _hex_int(value, name)
    return value.lower()


def _words(data: Any, count: int) -> list[int]:
    if not (isinstance(data, str) and data.startswith("0x")):
        raise LogError(f"data is not 0x hex: {str(data)[:80]!r}")
    body = data[2:]
    if len(body) != 64 * count:
        raise LogError(f"data holds {len(body) / 64:g} words, the event has {count}")
    try:
        return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]
    except ValueError:
        raise LogError("data is not hex") from None


def _address(word: int) -> str:
    if word >> 160:
        raise LogError("an address topic has bits above 160")
    return f"0x{word:040x}"


def _signed(word: int, bits: int = 256) -> int:
    word &= (1 << bits) - 1
    return word - (1 << bits) if word >> (bits - 1) else word


def _signed_topic(word: int, bits: int) -> int:
    # An indexed intN is sign-extended to 256 bits.
    return _signed(word, 256) if word >> 255 else _signed(word, bits)


def position_of(log: dict[str, Any]) -> LogPosition:
    return LogPosition(
        block_number=_hex_int(log.get("blockNumber"), "blockNumber"),
        block_hash=_hash(log.get("blockHash"), "blockHash"),
        log_index=_hex_int(log.get("logIndex"), "logIndex"),
        transaction_hash=_hash(log.get("transactionHash"), "transactionHash"),
        address=str(log.get("address", "")).lower(),
    )


def decode(log: dict[str, Any]) -> TransferLog | PoolLog | None:
    """The event of `log`, None for an event this module does not read; LogError when the log
    is malformed for its event."""
    if not isinstance(log, dict):
        raise LogError(f"a log is a JSON object, not {type(log).__name__}")
    topics = log.get("topics")
    if not (isinstance(topics, list) and topics and all(isinstance(t, str) for t in topics)):
        raise LogError("a log has no topics list")
    signature = topics[0].lower()
    words = [_hex_int(t, "topic") for t in topics[1:]]
    position = position_of(log)
    reader = _READERS.get(signature)
    return None if reader is None else reader(position, words, log.get("data", "0x"))


def decode_logs(logs: Sequence[Any]) -> list[TransferLog | PoolLog | LogError | None]:
    """What `decode` makes of each of `logs`, a LogError in place of raising it.

    The fields every log has (topics, block, hashes, index, address) are checked a column at a
    time: unique values once each, the hashes and topics as one joined string. A batch whose
    columns do not pass is decoded log by log, and so is a log its event's reader doubts: the
    answer, errors included, is always `decode`'s own.
    """
    positions = _positions(logs)
    if positions is None:
        return [_decoded(log) for log in logs]
    events: list[TransferLog | PoolLog | LogError | None] = []
    for log, position in zip(logs, positions, strict=True):
        topics = log["topics"]
        reader = _READERS.get(topics[0].lower())
        if reader is None:
            events.append(None)
            continue
        try:
            # Topics checked as 0x and 64 hex digits: each parses as `decode` parses it.
            words = [int(topic, 16) for topic in topics[1:]]
            events.append(reader(position, words, log.get("data", "0x")))
        except LogError:
            events.append(_decoded(log))  # its error, as `decode` words it
    return events


def _decoded(log: Any) -> TransferLog | PoolLog | LogError | None:
    try:
        return decode(log)
    except LogError as error:
        return error


_WORD_TOPICS = re.compile(r"(?:0x[0-9a-fA-F]{64})*")  # 32-byte 0x words, joined


def _positions(logs: Sequence[Any]) -> list[LogPosition] | None:
    """Each log's position, or None when a column holds something `decode` would check
    differently (a missing field, a short topic, a non-hex character): decode log by log."""
    if not logs:
        return []
    if set(map(type, logs)) != {dict}:
        return None
    try:
        topics = list(map(itemgetter("topics"), logs))
        if set(map(type, topics)) != {list} or not all(topics):
            return None
        transactions = list(map(itemgetter("transactionHash"), logs))
        block_hashes = list(map(itemgetter("blockHash"), logs))
        if not (_all_words(list(chain.from_iterable(topics))) and _all_words(transactions)
                and _all_words(set(block_hashes))):
            return None
        numbers = _each(logs, "blockNumber")
        indexes = _each(logs, "logIndex")
    except (KeyError, TypeError, LogError):
        return None
    addresses = map(str.lower, map(str, map(dict.get, logs, repeat("address"), repeat(""))))
    fields = zip(numbers, map(str.lower, block_hashes), indexes, map(str.lower, transactions),
                 addresses, strict=True)
    return list(map(tuple.__new__, repeat(LogPosition), fields))


def _all_words(values: Iterable[Any]) -> bool:
    """Whether every value is 0x and 64 hex digits (a hash or a topic), checked as one string;
    a non-string raises TypeError."""
    listed = list(values)
    return set(map(len, listed)) <= {66} and _WORD_TOPICS.fullmatch("".join(listed)) is not None


def _each(logs: Sequence[dict[str, Any]], name: str) -> list[int]:
    """Each log's hex quantity `name`, parsed once per distinct value (blocks hold many logs)."""
    values = list(map(dict.get, logs, repeat(name)))
    parsed = {value: _hex_int(value, name) for value in set(values)}
    return list(map(parsed.__getitem__, values))


# One reader per event, from the topic words after topic0 (as integers) and the data, for
# `decode` and the batch path of `decode_logs` alike: one body, one wording of each error.


def _read_transfer(position: LogPosition, words: list[int], data: Any) -> TransferLog | None:
    if len(words) != 2:  # ERC-721 Transfer indexes the token id too: not a token amount
        return None
    (value,) = _words(data, 1)
    return TransferLog(position, _address(words[0]), _address(words[1]), value)


def _read_v2_sync(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    reserve0, reserve1 = _words(data, 2)
    return PoolLog(position, "uniswap_v2", "sync", reserve0=reserve0, reserve1=reserve1)


def _read_v2_swap(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    in0, in1, out0, out1 = _words(data, 4)
    return PoolLog(position, "uniswap_v2", "swap", amount0=in0 - out0, amount1=in1 - out1)


def _read_v2_mint(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    amount0, amount1 = _words(data, 2)
    return PoolLog(position, "uniswap_v2", "mint", amount0=amount0, amount1=amount1)


def _read_v2_burn(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    amount0, amount1 = _words(data, 2)
    return PoolLog(position, "uniswap_v2", "burn", amount0=-amount0, amount1=-amount1)


def _read_v3_swap(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    amount0, amount1, sqrt_price, liquidity, tick = _words(data, 5)
    return PoolLog(
        position, "uniswap_v3", "swap", amount0=_signed(amount0), amount1=_signed(amount1),
        sqrt_price_x96=sqrt_price, liquidity=liquidity, tick=_signed(tick, 24),
    )


def _read_v3_range(position: LogPosition, words: list[int], data: Any, *, mint: bool) -> PoolLog:
    if len(words) != 3:
        raise LogError(f"a v3 {'Mint' if mint else 'Burn'} has 3 indexed topics, not "
                       f"{len(words)}")
    lower, upper = _signed_topic(words[1], 24), _signed_topic(words[2], 24)
    if mint:
        _sender, amount, amount0, amount1 = _words(data, 4)
    else:
        amount, amount0, amount1 = _words(data, 3)
    sign = 1 if mint else -1
    return PoolLog(
        position, "uniswap_v3", "mint" if mint else "burn", amount0=sign * amount0,
        amount1=sign * amount1, tick_lower=lower, tick_upper=upper,
        range_liquidity=sign * amount,
    )


def _read_v3_mint(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    return _read_v3_range(position, words, data, mint=True)


def _read_v3_burn(position: LogPosition, words: list[int], data: Any) -> PoolLog:
    return _read_v3_range(position, words, data, mint=False)


_READERS: dict[str, Callable[[LogPosition, list[int], Any], TransferLog | PoolLog | None]] = {
    TRANSFER: _read_transfer, V2_SYNC: _read_v2_sync, V2_SWAP: _read_v2_swap,
    V2_MINT: _read_v2_mint, V2_BURN: _read_v2_burn, V3_SWAP: _read_v3_swap,
    V3_MINT: _read_v3_mint, V3_BURN: _read_v3_burn,
}
