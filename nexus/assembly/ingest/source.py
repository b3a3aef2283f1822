"""How a connector plugs in: a Source that fetches, a Sink that stores, and the Connector that
names them, with its fake server, rate limit and schedule. See the README's "Ingestion" section;
`nexus.assembly.ingest.connectors.fred` is a complete example."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from nexus.assembly.ingest.http import Rate, SourceHttp
from nexus.assembly.ingest.records import Batch, Cursor, Record, Window, Written

if TYPE_CHECKING:
    from starlette.types import ASGIApp



class Source(Protocol):
    """Fetches one published format. `fetch` yields batches in order; each carries the cursor
    to resume from once its records are stored. It raises SourceUnavailable/SourceRefused when
    it cannot go on, and reports an unusable response as a `Batch.failures` entry (or raises
    BadPayload, which dead-letters it and ends the run) — never anything else."""

    name: str

    def fetch(self, http: SourceHttp, cursor: Cursor, window: Window) -> AsyncIterator[Batch]: ...


class Sink(Protocol):
    """Writes records of its `kinds` to a domain's store, idempotently: writing the same
    records again (a replay, a re-fetch after a crash) leaves the store as it was. Returns the
    events to publish and the records it refused (each is dead-lettered, the rest written)."""

    kinds: frozenset[str]

    async def ensure_schema(self) -> None: ...

    async def write(self, records: list[Record]) -> Written: ...


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """What a source factory gets: the base URL (the real API's, or the fake server's mount),
    the environment (API keys, lists of series/tickers), nothing else."""

    base_url: str
    env: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Connector:
    """One ingestible source, as `nexus ingest NAME` knows it.

    - `name`: the CLI name, the stream's and the cursor's key, the fake server's mount (/NAME).
    - `domain`: the analytics database its sink writes (macro, micro, crypto).
    - `base_url`: the real API; NEXUS_INGEST_<NAME>_URL overrides it, and NEXUS_INGEST_FAKE_URL
      points every connector at `nexus ingest fake-servers` (URL + /NAME).
    - `rate`: the source's published request limit; `interval_seconds` the default schedule
      (NEXUS_INGEST_<NAME>_INTERVAL overrides it).
    - `secrets`: query parameters / headers never logged (api_key, Authorization).
    - `fake`: a Starlette app serving recorded-format responses, mounted at /NAME.
    """

    name: str
    domain: str
    description: str
    base_url: str
    source: Callable[[SourceConfig], Source]
    sink: Callable[..., Sink]  # (store, database: the domain's by default[, vectors])
    rate: Rate
    interval_seconds: float = 3600.0
    secrets: tuple[str, ...] = ()
    headers: Callable[[Mapping[str, str]], dict[str, str]] = field(default=lambda env: {})
    fake: Callable[[], ASGIApp] | None = None
    # The sink embeds text (micro's posts): it is built as sink(store, database, vectors).
    vectors: bool = False
    # The source streams as things happen (a WebSocket, a filtered stream): each batch is
    # stored as it comes, never held back for the next to join it (Pipeline.linger_seconds).
    live: bool = False
