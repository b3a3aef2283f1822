"""The events on the bus: typed, versioned payloads and the channels they travel on.

Every event is a JSON object `{"type": ..., "v": 1, ...fields}`. Publishers build one of the
records below and call `encode`; subscribers call `decode`, which refuses (EventError) a payload
of an unknown type or version instead of guessing, so a newer publisher never feeds an older
subscriber fields it would misread. Timestamps travel as ISO 8601 strings in UTC, except
`published_at`: seconds since the epoch on the publisher's clock, which the latency benchmark
compares with the receiver's clock.

| channel                    | event            | published by                        |
|----------------------------|------------------|-------------------------------------|
| `market.{SYMBOL}`          | MarketTick       | the replay feed, market ingestion   |
| `social.posts`             | SocialPost       | the replay feed, social ingestion   |
| `alert.mentions.{SYMBOL}`  | MentionSpike     | the mention-spike detector          |
| `simulation.{JOB_ID}`      | SimulationUpdate | the simulation runner (macro)       |
| `macro.{SERIES_ID}`        | MacroObservation | macro ingestion (FRED, Treasury)    |
| `onchain.whales.{TOKEN}`   | WhaleTransfer    | Ethereum ingestion (ERC-20 Transfer) |
| `clock.market`             | MarketClockTick  | the replay feed (retained)          |
| `platform.trusted_documents` | TrustedDocumentsChanged | register/deleteTrustedDocument |
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

VERSION = 1


class EventError(ValueError):
    """A payload that is not an event this code understands."""


def market_channel(symbol: str) -> str:
    return f"market.{symbol}"


SOCIAL_CHANNEL = "social.posts"


def mentions_channel(symbol: str) -> str:
    return f"alert.mentions.{symbol}"


def simulation_channel(job_id: str) -> str:
    return f"simulation.{job_id}"


def macro_channel(series_id: str) -> str:
    return f"macro.{series_id}"


def whale_channel(token: str) -> str:
    return f"onchain.whales.{token}"


CLOCK_CHANNEL = "clock.market"
TRUSTED_DOCUMENTS_CHANNEL = "platform.trusted_documents"


@dataclass(frozen=True, slots=True)
class MarketTick:
    """A trade price of one instrument, with the day's figures so far."""

    type: ClassVar[str] = "market.tick"
    symbol: str
    asset_class: Literal["crypto", "stock"]
    price: float
    open: float
    high: float
    low: float
    previous_close: float
    volume: float  # traded so far today, in units of the instrument
    at: dt.datetime  # market time (the replay clock's, when replayed)
    published_at: float  # wall clock of the publisher, seconds since the epoch

    @property
    def change(self) -> float:
        return self.price - self.previous_close

    @property
    def change_percent(self) -> float:
        return 100.0 * self.change / self.previous_close if self.previous_close else 0.0


@dataclass(frozen=True, slots=True)
class SocialPost:
    """A social post as it is posted (the store's copy comes through ingestion)."""

    type: ClassVar[str] = "social.post"
    id: str
    source: str
    author: str
    author_followers: int | None
    text: str
    cashtags: tuple[str, ...]
    sentiment: float | None
    synthetic: bool
    created_at: dt.datetime
    published_at: float


@dataclass(frozen=True, slots=True)
class MentionSpike:
    """Posts mentioning `symbol` in the last window far above its usual rate."""

    type: ClassVar[str] = "alert.mentions"
    symbol: str
    mentions: int  # posts in the window that just closed
    baseline: float  # the usual posts per window (exponentially weighted)
    ratio: float  # mentions / baseline
    window_seconds: float  # market-time length of the window
    at: dt.datetime
    published_at: float


@dataclass(frozen=True, slots=True)
class SimulationUpdate:
    """Progress of a simulation job; the last one carries the result or the error."""

    type: ClassVar[str] = "simulation.update"
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float  # in [0, 1]
    result: Mapping[str, Any] | None = None
    error: str | None = None
    published_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class MacroObservation:
    """The newest observation of a macro series, once ingestion stored it. `series_id` is a
    FRED id, or `TREASURY_{months}M` for a par yield of the Treasury curve."""

    type: ClassVar[str] = "macro.observation"
    series_id: str
    date: str  # the observation's date, YYYY-MM-DD
    value: float  # in the series' units
    realtime_start: str  # the vintage: first day this value was the published one, YYYY-MM-DD
    published_at: float


@dataclass(frozen=True, slots=True)
class WhaleTransfer:
    """An ERC-20 transfer worth at least the ingestion's whale threshold (US dollars)."""

    type: ClassVar[str] = "onchain.whale"
    token: str  # symbol, upper case (USDT, WETH)
    token_address: str  # the token contract, 0x lower case
    block_number: int
    block_hash: str
    log_index: int
    transaction_hash: str
    sender: str  # 0x address, lower case
    recipient: str
    amount: float  # in token units (decimals applied)
    price_usd: float  # US dollars per token when ingested
    value_usd: float
    sender_exchange: str | None  # the known exchange sending, if any
    recipient_exchange: str | None
    at: dt.datetime  # the block's timestamp
    published_at: float


@dataclass(frozen=True, slots=True)
class MarketClockTick:
    """The market clock's time: the replay's (accelerated) time, retained on `clock.market`."""

    type: ClassVar[str] = "clock.market"
    at: dt.datetime  # market time now
    speed: float  # market seconds per real second
    published_at: float


@dataclass(frozen=True, slots=True)
class TrustedDocumentsChanged:
    """An organisation registered or deleted a trusted document: every router forgets what it
    cached for that hash at once, instead of at the end of its cache interval."""

    type: ClassVar[str] = "platform.trusted_documents.changed"
    organization_id: str
    sha256: str  # hex SHA-256 of the document's text
    change: Literal["registered", "deleted"]
    published_at: float = 0.0


Event = (
    MarketTick
    | SocialPost
    | MentionSpike
    | SimulationUpdate
    | MacroObservation
    | WhaleTransfer
    | MarketClockTick
    | TrustedDocumentsChanged
)
EVENT_TYPES: dict[str, type[Any]] = {
    cls.type: cls
    for cls in (
        MarketTick, SocialPost, MentionSpike, SimulationUpdate, MacroObservation, WhaleTransfer,
        MarketClockTick, TrustedDocumentsChanged,
    )
}


def encode(event: Event) -> dict[str, Any]:
    """The JSON object of `event`."""
    payload: dict[str, Any] = {"type": event.type, "v": VERSION}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        payload[item.name] = value
    return payload


def decode(payload: Mapping[str, Any]) -> Event:
    """The event record of a JSON object; EventError when it is not one we understand."""
    cls = EVENT_TYPES.get(str(payload.get("type")))
    if cls is None:
        raise EventError(f"unknown event type {payload.get('type')!r}")
    if payload.get("v") != VERSION:
        raise EventError(f"{cls.type} version {payload.get('v')!r} is not {VERSION}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in payload:
            if item.default is not dataclasses.MISSING or item.default_factory is not (
                dataclasses.MISSING
            ):
                continue
            raise EventError(f"{cls.type} has no {item.name!r}")
        values[item.name] = _typed(payload[item.name], hints[item.name], cls.type, item.name)
    event: Event = cls(**values)
    return event


def _typed(value: Any, hint: Any, event_type: str, name: str) -> Any:
    """`value` checked (and converted, for datetimes and tuples) against the field's type."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise EventError(f"{event_type}.{name} must not be null")
    for option in options:
        origin = typing.get_origin(option)
        if option is dt.datetime and isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                break
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option in (str, bool) and isinstance(value, option):
            return value
        if origin is Literal and value in typing.get_args(option):
            return value
        if origin is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        if origin is Mapping and isinstance(value, dict):
            return value
    raise EventError(f"{event_type}.{name} has the wrong type ({type(value).__name__})")
