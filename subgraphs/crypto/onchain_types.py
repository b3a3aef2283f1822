"""On-chain fields of the crypto graph: ERC-20 transfers (a Relay connection), whale transfers,
exchange flows, and the market clock that queries and subscriptions share."""

from __future__ import annotations

import datetime as dt
import enum
import math
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.types import Info

from nexus.errors import BadUserInput
from nexus.events import WhaleTransfer
from nexus.market_clock import market_time
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.onchain_repository import ChainPosition, TransferFilter, TransferRecord
from subgraphs.live import symbol_list
from subgraphs.pages import PageInfo
from subgraphs.relay import (
    After,
    First,
    checked_first,
    cursor_page_info,
    decode_int_cursor,
    encode_cursor,
)

DEFAULT_WHALE_USD = 1_000_000.0  # the ingestion's default threshold (NEXUS_WHALE_USD)
MAX_FLOW_PERIODS = 2000  # buckets per exchange one exchangeFlows answer may hold
CONNECTION_SIZE = ListSize(  # type: ignore[call-arg]
    slicing_arguments=["first"], sized_fields=["edges"], require_one_slicing_argument=False
)


@strawberry.type(description="An ERC-20 token transfer read from an Ethereum `Transfer` log.")
class Transfer:
    transaction_hash: str = strawberry.field(description="Hash of the transaction, 0x hex.")
    log_index: int = strawberry.field(description="Position of the log in its block.")
    block_number: int = strawberry.field(description="Height of the block holding the log.")
    block_hash: str = strawberry.field(description="Hash of that block, 0x hex.")
    at: dt.datetime = strawberry.field(description="The block's timestamp, UTC.")
    token: str = strawberry.field(description="Symbol of the token moved (USDT, WETH).")
    token_address: str = strawberry.field(description="The token contract, 0x lower case.")
    from_: str = strawberry.field(name="from", description="Sender address, 0x lower case.")
    to: str = strawberry.field(description="Recipient address, 0x lower case.")
    amount: float = strawberry.field(description="Tokens moved, in token units (decimals "
                                     "applied).")
    price_usd: float | None = strawberry.field(
        description="US dollars per token used to value it: the latest price when ingested; "
        "null when no price was known."
    )
    value_usd: float | None = strawberry.field(
        description="`amount` times `priceUsd`, US dollars; null when no price was known."
    )
    from_exchange: str | None = strawberry.field(
        description="The known exchange that sent it (an outflow), if any."
    )
    to_exchange: str | None = strawberry.field(
        description="The known exchange that received it (an inflow), if any."
    )


@strawberry.type(description="A transfer and the cursor to page on from it.")
class TransferEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the transfers after this.")
    node: Transfer = strawberry.field(description="The transfer.")


@strawberry.type(description="A page of transfers, newest first (Relay connection).")
class TransferConnection:
    edges: list[TransferEdge] = strawberry.field(description="The page's transfers.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursors.")


@strawberry.enum(description="The length of one exchange-flow period.")
class FlowPeriod(enum.Enum):
    HOUR = strawberry.enum_value(3600, description="One hour (UTC).")
    DAY = strawberry.enum_value(86_400, description="One day (UTC midnight to midnight).")
    WEEK = strawberry.enum_value(604_800, description="Seven days (UTC, from a Monday).")


@strawberry.type(description="US dollars into and out of one known exchange in one period.")
class ExchangeFlow:
    exchange: str = strawberry.field(description="The exchange's name (e.g. Binance).")
    period_start: dt.datetime = strawberry.field(description="Start of the period, UTC.")
    period_end: dt.datetime = strawberry.field(description="End of the period (exclusive), "
                                               "UTC.")
    inflow_usd: float = strawberry.field(description="Value received, US dollars.")
    outflow_usd: float = strawberry.field(description="Value sent, US dollars.")
    netflow_usd: float = strawberry.field(
        description="`inflowUsd` minus `outflowUsd`, US dollars (positive: coins arriving)."
    )
    inflows: int = strawberry.field(description="Transfers received.")
    outflows: int = strawberry.field(description="Transfers sent.")


@strawberry.enum(description="Where the market clock's time comes from.")
class ClockSource(enum.Enum):
    REPLAY = strawberry.enum_value(
        "replay", description="The replay feed's accelerated clock over the shipped history."
    )
    WALL_CLOCK = strawberry.enum_value("wall_clock", description="Real time (live feeds).")


@strawberry.type(description="The market's 'now', the same for queries and subscriptions.")
class MarketClock:
    now: dt.datetime = strawberry.field(
        description="Market time now, UTC: the time of the replay's latest ticks, or the wall "
        "clock without a replay."
    )
    source: ClockSource = strawberry.field(description="REPLAY or WALL_CLOCK.")
    speed: float = strawberry.field(
        description="Market seconds per real second (1 for the wall clock)."
    )
    published_at: dt.datetime = strawberry.field(
        description="Wall-clock time (UTC) the market time was last published."
    )


def transfer_from(record: TransferRecord | WhaleTransfer) -> Transfer:
    if isinstance(record, WhaleTransfer):
        return Transfer(
            transaction_hash=record.transaction_hash, log_index=record.log_index,
            block_number=record.block_number, block_hash=record.block_hash, at=record.at,
            token=record.token, token_address=record.token_address, from_=record.sender,
            to=record.recipient, amount=record.amount, price_usd=record.price_usd,
            value_usd=record.value_usd, from_exchange=record.sender_exchange,
            to_exchange=record.recipient_exchange,
        )
    return Transfer(
        transaction_hash=record.transaction_hash, log_index=record.log_index,
        block_number=record.block_number, block_hash=record.block_hash, at=record.at,
        token=record.token, token_address=record.token_address, from_=record.sender,
        to=record.recipient, amount=record.amount, price_usd=record.price_usd,
        value_usd=record.value_usd, from_exchange=record.sender_exchange or None,
        to_exchange=record.recipient_exchange or None,
    )


def checked_address(address: str | None) -> str | None:
    if address is None:
        return None
    text = address.strip().lower()
    if not (len(text) == 42 and text.startswith("0x") and all(c in "0123456789abcdef"
                                                               for c in text[2:])):
        raise BadUserInput(
            f"Not an Ethereum address: {address!r} (0x and 40 hex digits).", argument="address"
        )
    return text


def checked_usd(value: float | None, argument: str) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise BadUserInput(f"`{argument}` must be a finite number >= 0 US dollars.",
                           argument=argument)
    return value


async def transfer_page(
    info: Info[CryptoContext, None], where: TransferFilter, first: int, after: str | None
) -> TransferConnection:
    checked_first(first)
    key = decode_int_cursor(after, 2)
    position = ChainPosition(*key) if key else None
    records, has_next = await info.context.repository.onchain.transfers(where, first, position)
    cursors = [encode_cursor([r.block_number, r.log_index]) for r in records]
    return TransferConnection(
        edges=[
            TransferEdge(cursor=cursor, node=transfer_from(record))
            for cursor, record in zip(cursors, records, strict=True)
        ],
        page_info=cursor_page_info(cursors, has_next, after),
    )


Tokens = Annotated[
    list[str] | None,
    strawberry.argument(description="Token symbols to keep (USDT, WETH); null keeps all."),
]
FromTime = Annotated[
    dt.datetime | None,
    strawberry.argument(name="from", description="Earliest block time, inclusive (UTC)."),
]
ToTime = Annotated[
    dt.datetime | None,
    strawberry.argument(description="Latest block time, exclusive (UTC)."),
]


def _window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[
    dt.datetime | None, dt.datetime | None
]:
    start, end = _aware(start), _aware(end)
    if start is not None and end is not None and start >= end:
        raise BadUserInput(f"`from` ({start}) is not before `to` ({end}).", argument="from")
    return start, end


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


@strawberry.type(description="On-chain entry points.")
class OnchainQuery:
    @strawberry.field(
        description="ERC-20 transfers read from Ethereum logs, newest first (by block and "
        "log index), canonical blocks only.",
        directives=[CONNECTION_SIZE],
    )
    async def transfers(
        self,
        info: Info[CryptoContext, None],
        tokens: Tokens = None,
        address: Annotated[
            str | None,
            strawberry.argument(description="Keep transfers from or to this 0x address."),
        ] = None,
        min_value_usd: Annotated[
            float | None,
            strawberry.argument(description="Keep transfers worth at least this, US dollars."),
        ] = None,
        from_: FromTime = None,
        to: ToTime = None,
        first: First = 20,
        after: After = None,
    ) -> TransferConnection:
        start, end = _window(from_, to)
        where = TransferFilter(
            tokens=tuple(symbol_list(tokens, "tokens")) if tokens is not None else (),
            address=checked_address(address),
            min_value_usd=checked_usd(min_value_usd, "minValueUsd"),
            start=start,
            end=end,
        )
        return await transfer_page(info, where, first, after)

    @strawberry.field(
        description="Whale transfers: those worth at least `minValueUsd`, newest first.",
        directives=[CONNECTION_SIZE],
    )
    async def whale_transfers(
        self,
        info: Info[CryptoContext, None],
        tokens: Tokens = None,
        min_value_usd: Annotated[
            float,
            strawberry.argument(
                description="Smallest value that counts as a whale, US dollars (default: the "
                "ingestion's default alert threshold, 1,000,000)."
            ),
        ] = DEFAULT_WHALE_USD,
        first: First = 20,
        after: After = None,
    ) -> TransferConnection:
        where = TransferFilter(
            tokens=tuple(symbol_list(tokens, "tokens")) if tokens is not None else (),
            min_value_usd=checked_usd(min_value_usd, "minValueUsd"),
        )
        return await transfer_page(info, where, first, after)

    @strawberry.field(
        description="US dollars into and out of each known exchange address set, per period, "
        "from ERC-20 transfers; `to` defaults to the market clock's now and `from` to 7 days "
        "before `to`.",
        directives=[ListSize(assumed_size=200)],  # type: ignore[call-arg]
    )
    async def exchange_flows(
        self,
        info: Info[CryptoContext, None],
        exchanges: Annotated[
            list[str] | None,
            strawberry.argument(description="Exchange names to keep (Binance); null keeps all."),
        ] = None,
        tokens: Tokens = None,
        from_: FromTime = None,
        to: ToTime = None,
        period: Annotated[
            FlowPeriod, strawberry.argument(description="Length of each period.")
        ] = FlowPeriod.DAY,
    ) -> list[ExchangeFlow]:
        start, end = _window(from_, to)
        if end is None:
            end = (await market_time(info.context.bus)).now
        if start is None:
            start = end - dt.timedelta(days=7)
        if start >= end:
            raise BadUserInput(f"`from` ({start}) is not before `to` ({end}).", argument="from")
        seconds = int(period.value)
        if (end - start).total_seconds() / seconds > MAX_FLOW_PERIODS:
            raise BadUserInput(
                f"At most {MAX_FLOW_PERIODS} periods per exchange: narrow `from`-`to` or pick a "
                "longer `period`.",
                argument="period",
            )
        names = [name.strip() for name in exchanges or [] if name.strip()]
        records = await info.context.repository.onchain.exchange_flows(
            names, symbol_list(tokens, "tokens") if tokens is not None else [], start, end,
            seconds,
        )
        return [
            ExchangeFlow(
                exchange=r.exchange, period_start=r.period_start,
                period_end=r.period_start + dt.timedelta(seconds=seconds),
                inflow_usd=r.inflow_usd, outflow_usd=r.outflow_usd,
                netflow_usd=r.inflow_usd - r.outflow_usd, inflows=r.inflows,
                outflows=r.outflows,
            )
            for r in records
        ]

    @strawberry.field(description="The market clock: the 'now' that queries and live updates "
                      "share (the replay's time in the embedded default).")
    async def market_clock(self, info: Info[CryptoContext, None]) -> MarketClock:
        reading = await market_time(info.context.bus)
        return MarketClock(
            now=reading.now, source=ClockSource(reading.source), speed=reading.speed,
            published_at=reading.published_at,
        )
