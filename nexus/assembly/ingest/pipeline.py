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
from nexus.assembly.ingest.checkpoints import CursorStore, DeadLetterStore
from nexus.assembly.ingest.errors import BadPayload, IngestError
from nexus.assembly.ingest.http import RetryPolicy, SourceHttp
from nexus.assembly.ingest.records import Batch, DeadLetter, Window
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
        http = SourceHttp(
            connector.name,
            base_url,
            rate=connector.rate,
            retry=self.retry_policy(),
            headers=connector.headers(self.env),
            secrets=connector.secrets,
        )
        try:
            await cursors.ensure_schema()
            await self.dead.ensure_schema()
            await sink.ensure_schema()
            async with self.stream.lease(connector.name):
                await self.stream.open(connector.name)
                # What a killed run left on the stream is stored before anything new is fetched.
                await self._consume(connector.name, sink, cursors, report, None, on_batch)
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
        done = asyncio.Event()

        async def produce() -> None:
            try:
                async for batch in source.fetch(http, cursor, window):
                    await slots.acquire()
                    await self.stream.add(connector.name, batch)
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
                done.set()

        producer = asyncio.create_task(produce(), name=f"ingest-{connector.name}")
        try:
            await self._consume(connector.name, sink, cursors, report, done, on_batch, slots)
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
        done: asyncio.Event | None,
        on_batch: Callable[[RunReport], None] | None,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        """Store batches until the stream is empty (`done` None) or the producer finished and
        the stream is drained."""
        while True:
            entry = await self.stream.read(name, 0.05)
            if entry is None:
                if done is None or done.is_set():
                    # The producer may have added its last batch just before finishing.
                    entry = await self.stream.read(name, 0.01) if done is not None else None
                    if entry is None:
                        return
                else:
                    continue
            # Batches already waiting are stored together: one write and one checkpoint (the
            # last batch's cursor) instead of one per page, when the source outpaces the store.
            entries = [entry]
            waiting = len(entry[1].records)
            while waiting < self.coalesce_records:
                more = await self.stream.read(name, 0)
                if more is None:
                    break
                entries.append(more)
                waiting += len(more[1].records)
            await self.store_batch(name, sink, cursors, _joined(entries), report, len(entries))
            for entry_id, _ in entries:
                await self.stream.ack(name, entry_id)
                if slots is not None:
                    slots.release()
            if on_batch is not None:
                on_batch(report)

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
                for event in written.events:
                    try:
                        await self.bus.publish(event.channel, event.event, retain=event.retain)
                    except StoreUnavailable:  # events are live updates: late is lost anyway
                        log.warning("event not published", extra={"channel": event.channel})
                    else:
                        report.events += 1
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


def _joined(entries: list[tuple[str, Batch]]) -> Batch:
    if len(entries) == 1:
        return entries[0][1]
    return Batch(
        [record for _, batch in entries for record in batch.records],
        entries[-1][1].cursor,  # batches are in order: the last cursor covers them all
        [failure for _, batch in entries for failure in batch.failures],
    )


def _same(letter: DeadLetter) -> tuple[str, str, str, str]:
    return (letter.stage, letter.reason, repr(letter.scope), repr(letter.payload.get("key")))


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")
