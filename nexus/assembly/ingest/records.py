"""What flows through ingestion: records, batches, fetch windows, dead letters, domain events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]
Cursor = JsonObject  # a source's own checkpoint: since-ids, block numbers, last dates per key


@dataclass(frozen=True, slots=True)
class Record:
    """One row-to-be as the source published it.

    `kind` says which table the sink writes it to; `key` is unique per stored row within its
    kind (the sink deduplicates on it, so a record written twice is stored once); `payload`
    holds JSON values only, so a record travels through Redis unchanged.
    """

    source: str
    kind: str
    key: str
    payload: JsonObject

    def __init__(self, source: str, kind: str, key: str, payload: JsonObject) -> None:
        # Ingestion builds one Record per row (70,245 in the FRED benchmark): the fields are set
        # through their slots' own descriptors, about three times faster than the generated
        # frozen __init__ (object.__setattr__ per field). Still frozen: assignment raises.
        _set_source(self, source)
        _set_kind(self, kind)
        _set_key(self, key)
        _set_payload(self, payload)

    def to_json(self) -> JsonObject:
        return {"source": self.source, "kind": self.kind, "key": self.key, "payload": self.payload}

    @classmethod
    def from_json(cls, value: JsonObject) -> Record:
        return cls(value["source"], value["kind"], value["key"], value["payload"])


_set_source, _set_kind, _set_key, _set_payload = (
    Record.__dict__[name].__set__ for name in ("source", "kind", "key", "payload")
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Something ingestion could not use, kept to inspect and replay.

    `stage` is "fetch" (a response that was malformed or truncated; `payload` describes the
    request and `scope` what to fetch again) or "store" (a record the sink refused; `payload`
    is the record). Secrets never appear: requests are described without their credentials.
    """

    source: str
    stage: str
    reason: str
    payload: JsonObject
    scope: JsonObject = field(default_factory=dict)
    at: str = ""  # ISO 8601, UTC; filled in when stored
    id: str = ""  # assigned by the dead-letter store

    def to_json(self) -> JsonObject:
        return {
            "source": self.source,
            "stage": self.stage,
            "reason": self.reason,
            "payload": self.payload,
            "scope": self.scope,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, value: JsonObject, id: str = "") -> DeadLetter:
        return cls(
            value["source"],
            value["stage"],
            value["reason"],
            value.get("payload", {}),
            value.get("scope", {}),
            value.get("at", ""),
            id,
        )


@dataclass(frozen=True, slots=True)
class Batch:
    """Records fetched together and the source's cursor once they are stored.

    The cursor is checkpointed only after the sink wrote every record of the batch, so a crash
    before that re-fetches the batch (at least once) and the idempotent sink stores it once.
    `failures` are responses the source could not parse; they are dead-lettered with the batch.
    """

    records: list[Record]
    cursor: Cursor
    failures: list[DeadLetter] = field(default_factory=list)

    def to_json(self) -> JsonObject:
        return {
            "records": [record.to_json() for record in self.records],
            "cursor": self.cursor,
            "failures": [failure.to_json() for failure in self.failures],
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> Batch:
        return cls(
            [Record.from_json(item) for item in value["records"]],
            value["cursor"],
            [DeadLetter.from_json(item) for item in value.get("failures", [])],
        )


@dataclass(frozen=True, slots=True)
class Window:
    """What one run fetches: `since`/`until` bound the source's time axis (observation dates,
    post times, blocks by time) where it has one; `only` narrows to some keys (series ids,
    tickers, symbols, pools); empty means the connector's configured set."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    only: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "only": list(self.only),
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> Window:
        def when(text: str | None) -> dt.datetime | None:
            return dt.datetime.fromisoformat(text) if text else None

        return cls(when(value.get("since")), when(value.get("until")), tuple(value.get("only", ())))


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """An event to publish on the bus once its records are stored (`market.*`, `social.*`,
    `onchain.*`, `macro.*`); `event` is the JSON object (nexus.events.encode for typed ones)."""

    channel: str
    event: JsonObject
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Written:
    """What a sink did with a batch: the events to publish and the records it refused."""

    events: list[DomainEvent] = field(default_factory=list)
    rejected: list[tuple[Record, str]] = field(default_factory=list)
    rows: int = 0  # rows written (records accepted), for progress and benchmarks
