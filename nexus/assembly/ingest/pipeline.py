"""One ingestion run of one connector: fetch -> stream -> store -> checkpoint -> publish.

The producer (the source's `fetch`) and the consumer (sink, checkpoint, events) run
concurrently, at most `in_flight` batches apart. The consumer takes batches in stream order and,
for each: writes its records (idempotent on their keys), dead-letters what the sink refused and
what the source could not parse, checkpoints the batch's cursor, publishes the domain events,
then acknowledges the stream entry. A crash anywhere before the checkpoint re-fetches (or, with
Redis, re-reads) the batch; the idempotent sink stores it once: no row lost, none duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nexus.assembly.ingest.checkpoints import DATABASE as STATE_DATABASE
from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters, CursorStore, DeadLetterStore
from nexus.assembly.ingest.errors import BadPayload, IngestError
from nexus.assembly.ingest.http import RetryPolicy, SourceHttp
from nexus.assembly.ingest.records import Batch, DeadLetter, DomainEvent, Window
from nexus.assembly.ingest.source import Connector, Sink, Source, SourceConfig
from nexus.assembly.ingest.stream import RecordStream
from nexus.config import ConfigError
from nexus.errors import StoreUnavailable
from nexus.stores.analytics import AnalyticsStore
from nexus.stores.bus import Bus
from nexus.stores.vectors import VectorStore

log = logging.getLogger("nexus.ingest")


@dataclass(slots=True)
class RunReport:
    """What a run did, as the progress display and the logs show it."""

    source: str
    batches: int = 0
    rows: int = 0
    dead_letters: int = 0
    events: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_log(self) -> dict[str, object]:
        return {
            "source": self.source,
            "batches": self.batches,
            "rows": self.rows,
            "dead_letters": self.dead_letters,
            "events": self.events,
            "requests": self.requests,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass(slots=True)
class Pipeline:
    """The shared parts of every run: stores, stream, dead letters, environment."""

    analytics: AnalyticsStore
    bus: Bus
    stream: RecordStream
    dead: DeadLetterStore
    env: Mapping[str, str]
    vectors: VectorStore | None = None  # for sinks that embed text (Connector.vectors)
    in_flight: int = 8  # batches fetched but not yet stored, at most
    coalesce_records: int = 200_000  # records stored in one write, at most (unless one batch)
    # While a backfill is still fetching, a write of fewer than `linger_records` waits this
    # long at most for the next pages to join it: each write costs the store a part per table
    # and a checkpoint, whatever its size (a larger write goes at once: the store works while
    # the source fetches). Live connectors (Connector.live: a trade stream) never wait.
    linger_seconds: float = 0.1
    linger_records: int = 10_000
    retry: RetryPolicy | None = None
    # domain -> database the sinks write (tests use their own); the state (cursors) database
    databases: Mapping[str, str] = field(default_factory=dict)
    state_database: str = STATE_DATABASE

    def base_url(self, connector: Connector) -> str:
        fake = self.env.get("NEXUS_INGEST_FAKE_URL", "").rstrip("/")
        if fake:
            return f"{fake}/{connector.name}"
        return self.env.get(f"NEXUS_INGEST_{_env_name(connector.name)}_URL", connector.base_url)

    def sink(self, connector: Connector) -> Sink:
        database = self.databases.get(connector.domain, connector.domain)
        if connector.vectors:
            if self.vectors is None:
                raise RuntimeError(f"{connector.name}'s sink needs the vector store")
            return connector.sink(self.analytics, database, self.vectors)
        return connector.sink(self.analytics, database)

    def http(self, connector: Connector) -> SourceHttp:
        """The HTTP client a run of `connector` fetches with: its URL, request rate, retry
        policy, headers and the secrets kept out of logs."""
        return SourceHttp(
            connector.name,
            self.base_url(connector),
            rate=connector.rate,
            retry=self.retry_policy(),
            headers=connector.headers(self.env),
            secrets=connector.secrets,
        )

    def retry_policy(self) -> RetryPolicy:
        if self.retry is not None:
            return self.retry
        try:
            timeout = float(self.env.get("NEXUS_INGEST_TIMEOUT_SECONDS", "30"))
            attempts = int(self.env.get("NEXUS_INGEST_ATTEMPTS", "5"))
        except ValueError:
            raise ConfigError(
                "NEXUS_INGEST_TIMEOUT_SECONDS must be seconds and NEXUS_INGEST_ATTEMPTS a whole "
                "number"
            ) from None
        if not (0 < timeout <= 3600 and 1 <= attempts <= 100):
            raise ConfigError(
                "NEXUS_INGEST_TIMEOUT_SECONDS must be above 0 and at most 3600, "
                "NEXUS_INGEST_ATTEMPTS 1 to 100"
            )
        return RetryPolicy(attempts=attempts, timeout_seconds=timeout)

    async def run(
        self,
        connector: Connector,
        window: Window | None = None,
        *,
        on_batch: Callable[[RunReport], None] | None = None,
    ) -> RunReport:
        """Ingest `connector` over `window` (default: from its cursor to now). Never raises for
        a source's failure: the report's `error` says what stopped the run."""
        window = window or Window()
        report = RunReport(connector.name)
        base_url = self.base_url(connector)
        source = connector.source(SourceConfig(base_url, self.env))
        sink = self.sink(connector)
        cursors = CursorStore(self.analytics, self.state_database)
        http = self.http(connector)
        try:
            await cursors.ensure_schema()
            if not _beside(self.dead, cursors):
                await self.dead.ensure_schema()
            await sink.ensure_schema()
            async with self.stream.lease(connector.name):
                await self.stream.open(connector.name)
                # What a killed run left on the stream is stored before anything new is fetched.
                await self._consume(connector.name, sink, cursors, report, None, on_batch, 0.0)
                cursor = await cursors.load(connector.name)
                log.info("ingest started", extra={"source": connector.name, **window.to_json()})
                await self._produce_and_consume(
                    connector, source, http, cursor, window, sink, cursors, report, on_batch
                )
        except (IngestError, StoreUnavailable) as error:
            report.error = str(error)
        except Exception as error:  # a store's own error, a bug: logged, the run ends, no crash
            log.exception("ingest failed", extra={"source": connector.name})
            report.error = f"{type(error).__name__}: {error}"[:500]
        finally:
            report.requests, report.retries = http.requests, http.retries
            report.finished = time.perf_counter()
            await http.close()
        level = logging.ERROR if report.error else logging.INFO
        log.log(level, "ingest finished", extra=report.as_log())
        return report

    async def _produce_and_consume(
        self,
        connector: Connector,
        source: Source,
        http: SourceHttp,
        cursor: dict[str, object],
        window: Window,
        sink: Sink,
        cursors: CursorStore,
        report: RunReport,
        on_batch: Callable[[RunReport], None] | None,
    ) -> None:
        slots = asyncio.Semaphore(self.in_flight)
        feed = _Feed()

        async def produce() -> None:
            try:
                async for batch in source.fetch(http, cursor, window):
                    await slots.acquire()
                    await self.stream.add(connector.name, batch)
                    feed.added.set()
            except BadPayload as error:
                # A response the source could not read and did not isolate: kept, run ended.
                await self.dead.add(
                    [
                        DeadLetter(
                            connector.name,
                            "fetch",
                            error.reason,
                            {"request": error.request, "excerpt": error.excerpt},
                            window.to_json(),
                        )
                    ]
                )
                report.dead_letters += 1
                raise
            finally:
                feed.done.set()
                feed.added.set()

        producer = asyncio.create_task(produce(), name=f"ingest-{connector.name}")
        linger = 0.0 if connector.live else self.linger_seconds
        try:
            await self._consume(
                connector.name, sink, cursors, report, feed, on_batch, linger, slots
            )
        finally:
            if not producer.done():
                producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer  # re-raises the source's IngestError, if any

    async def _consume(
        self,
        name: str,
        sink: Sink,
        cursors: CursorStore,
        report: RunReport,
        feed: _Feed | None,
        on_batch: Callable[[RunReport], None] | None,
        linger: float,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        """Store batches until the stream is empty (`feed` None: draining what a killed run
        left) or the producer finished and the stream is drained.

        The producer is in this process: the stream is read without blocking, and the consumer
        waits for the producer's signal instead (a blocking XREADGROUP that times out costs up
        to 100 ms: Redis checks blocked clients' timeouts ten times a second)."""

        async def next_entry(wait: float) -> tuple[str, Batch] | None:
            if feed is not None:
                feed.added.clear()
            entry = await self.stream.read(name, 0)
            if entry is None and feed is not None and not feed.done.is_set() and wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(feed.added.wait(), wait)
                entry = await self.stream.read(name, 0)
            return entry

        while True:
            entry = await next_entry(0.05)
            if entry is None:
                if feed is None or feed.done.is_set():
                    # Everything the producer added is on the stream before `done` is set.
                    entry = await self.stream.read(name, 0) if feed is not None else None
                    if entry is None:
                        return
                else:
                    continue
            # Batches already waiting are stored together: one write and one checkpoint (the
            # last batch's cursor) instead of one per page, when the source outpaces the store.
            # While the producer is still fetching, wait up to `linger` for its next pages.
            entries = [entry]
            waiting = len(entry[1].records)
            until = time.monotonic() + linger
            # (At most `in_flight` batches: the producer waits for their slots to fetch more.)
            while waiting < self.coalesce_records and len(entries) < self.in_flight:
                left = until - time.monotonic()
                lingering = left > 0 and waiting < self.linger_records
                more = await next_entry(min(left, 0.02) if lingering else 0)
                if more is None:
                    if lingering and feed is not None and not feed.done.is_set():
                        continue
                    break
                entries.append(more)
                waiting += len(more[1].records)
            await self.store_batch(name, sink, cursors, _joined(entries), report, len(entries))
            await self.stream.ack(name, *(entry_id for entry_id, _ in entries))
            if slots is not None:
                for _ in entries:
                    slots.release()
            if on_batch is not None:
                on_batch(report)

    async def _publish(self, events: list[DomainEvent]) -> int:
        """Publish a batch's events, in order; how many went out. Over Redis, all in one
        pipeline (a batch of transfers can raise hundreds of whale alerts). An event's
        `published_at` is set here, when it is published: a sink builds its events before
        its last inserts, which are no part of the delivery."""
        now = time.time()
        for event in events:
            if "published_at" in event.event:
                event.event["published_at"] = now
        many = getattr(self.bus, "publish_many", None)
        if many is not None and len(events) > 1:
            try:
                await many([(event.channel, event.event, event.retain) for event in events])
            except StoreUnavailable:  # events are live updates: late is lost anyway
                log.warning("events not published", extra={"events": len(events)})
                return 0
            return len(events)
        published = 0
        for event in events:
            try:
                await self.bus.publish(event.channel, event.event, retain=event.retain)
            except StoreUnavailable:
                log.warning("event not published", extra={"channel": event.channel})
            else:
                published += 1
        return published

    async def _new_letters(self, name: str, letters: list[DeadLetter]) -> list[DeadLetter]:
        """`letters` less those already waiting (a scheduled run that meets the same unknown
        series every hour keeps one letter for it, not one per run)."""
        waiting = {_same(letter) for letter in await self.dead.letters(name, limit=1000)}
        return [letter for letter in letters if _same(letter) not in waiting]

    async def store_batch(
        self,
        name: str,
        sink: Sink,
        cursors: CursorStore | None,
        batch: Batch,
        report: RunReport,
        batches: int = 1,
    ) -> None:
        letters = list(batch.failures)
        if batch.records:
            try:
                written = await sink.write(batch.records)
            except StoreUnavailable:
                raise  # nothing acknowledged: the batch is stored on the next run
            except Exception as error:  # a sink bug must not stop the source: quarantine
                log.exception("sink failed on a batch", extra={"source": name})
                letters += [
                    DeadLetter(name, "store", f"sink failed: {error!r}"[:300], r.to_json())
                    for r in batch.records
                ]
            else:
                report.rows += written.rows
                letters += [
                    DeadLetter(name, "store", reason, record.to_json())
                    for record, reason in written.rejected
                ]
                report.events += await self._publish(written.events)
        if letters:
            await self.dead.add(await self._new_letters(name, letters))
            report.dead_letters += len(letters)
            for letter in letters:
                log.warning(
                    "dead letter",
                    extra={"source": name, "stage": letter.stage, "reason": letter.reason},
                )
        if cursors is not None:
            await cursors.save(name, batch.cursor)
        report.batches += batches
        log.debug(
            "batch stored",
            extra={"source": name, "records": len(batch.records), "batches": report.batches},
        )


@dataclass(slots=True)
class _Feed:
    """The producer's signals to the consumer: a batch was added; it has finished."""

    added: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _joined(entries: list[tuple[str, Batch]]) -> Batch:
    if len(entries) == 1:
        return entries[0][1]
    return Batch(
        [record for _, batch in entries for record in batch.records],
        entries[-1][1].cursor,  # batches are in order: the last cursor covers them all
        [failure for _, batch in entries for failure in batch.failures],
    )


def _beside(dead: DeadLetterStore, cursors: CursorStore) -> bool:
    """The dead letters are in the cursors' database of the same store (the embedded default):
    one schema (`checkpoints.statements`), checked once per run, not twice."""
    return (
        isinstance(dead, AnalyticsDeadLetters)
        and dead.store is cursors.store
        and dead.database == cursors.database
    )


def _same(letter: DeadLetter) -> tuple[str, str, str, str]:
    return (letter.stage, letter.reason, repr(letter.scope), repr(letter.payload.get("key")))


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")
