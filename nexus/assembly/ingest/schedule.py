"""`nexus ingest --schedule`: every source on its own interval, until stopped.

Intervals come from, in order: the config file (TOML, `--config`), NEXUS_INGEST_<NAME>_INTERVAL
(seconds), the connector's default. The file may also narrow a source's keys:

    [fred]
    interval_seconds = 3600
    only = ["WALCL", "RRPONTSYD", "WTREGEN", "DGS10", "DGS2"]

    [treasury]
    interval_seconds = 21600

The same schedule runs inside `nexus serve` when NEXUS_INGEST_SOURCES is set (with
NEXUS_INGEST_CONFIG as the file): see `served_schedule`.

A source whose run fails (its API down past the retries) logs the error and runs again at its
next interval; the others carry on. Sources listed in NEXUS_INGEST_SOURCES (or --sources) are
scheduled; by default, every source the file names, or every registered one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import tomllib
from dataclasses import dataclass

from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connectors
from nexus.assembly.ingest.source import Connector
from nexus.config import ConfigError, Settings
from nexus.stores import Stores

log = logging.getLogger("nexus.ingest.schedule")


@dataclass(frozen=True, slots=True)
class Scheduled:
    connector: Connector
    interval_seconds: float
    only: tuple[str, ...] = ()


def plan(config: str | None, sources: list[str], env: dict[str, str]) -> list[Scheduled]:
    table: dict[str, dict[str, object]] = {}
    if config:
        with open(config, "rb") as file:
            table = tomllib.load(file)
    known = connectors()
    names = sources or [
        name for name in env.get("NEXUS_INGEST_SOURCES", "").split(",") if name.strip()
    ]
    names = [name.strip() for name in names] or list(table) or list(known)
    scheduled = []
    for name in names:
        if name not in known:
            raise ConfigError(f"unknown ingestion source {name!r}: one of {', '.join(known)}")
        entry = table.get(name, {})
        variable = f"NEXUS_INGEST_{name.upper().replace('-', '_')}_INTERVAL"
        interval = entry.get("interval_seconds", env.get(variable, known[name].interval_seconds))
        try:
            seconds = float(interval)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: interval must be seconds, not {interval!r}") from None
        if seconds < 1:
            raise ConfigError(f"{name}: interval must be at least 1 second")
        only = entry.get("only", [])
        scheduled.append(Scheduled(known[name], seconds, tuple(str(k) for k in only)))  # type: ignore[attr-defined]
    return scheduled


async def run_source(
    pipeline: Pipeline, item: Scheduled, *, once: bool, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        started = time.monotonic()
        report = await pipeline.run(item.connector, Window(only=item.only))
        if once:
            return
        wait = max(0.0, item.interval_seconds - (time.monotonic() - started))
        log.info(
            "next run",
            extra={"source": item.connector.name, "in_s": round(wait, 1), "ok": not report.error},
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)


async def run_schedule(
    settings: Settings, *, config: str | None, sources: list[str], once: bool = False
) -> int:
    from nexus.assembly.ingest.runtime import open_pipeline

    env = dict(os.environ)
    try:
        items = plan(config or env.get("NEXUS_INGEST_CONFIG"), sources, env)
    except (ConfigError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"nexus ingest: {error}")
        return 2
    # One analytics store serves every domain (three databases on one chDB path or server).
    # Micro's sink embeds posts: the pipeline then holds the vector store too.
    domain = "micro" if any(item.connector.vectors for item in items) else "macro"
    pipeline, close = open_pipeline(settings, domain, env)
    try:
        pipeline.retry_policy()  # a bad setting is refused now, not at each source's first run
    except ConfigError as error:
        print(f"nexus ingest: {error}")
        await close()
        return 2
    stop = asyncio.Event()
    log.info(
        "schedule started",
        extra={"sources": {item.connector.name: item.interval_seconds for item in items}},
    )
    try:
        await asyncio.gather(*(run_source(pipeline, item, once=once, stop=stop) for item in items))
    finally:
        stop.set()
        await close()
    return 0


class ServedSchedule:
    """The schedule inside `nexus serve` (NEXUS_INGEST_SOURCES set): the embedded chDB path
    admits one process, so the server itself ingests, into the stores it serves from, and its
    subscribers get the events in-process."""

    def __init__(self, pipeline: Pipeline, items: list[Scheduled]) -> None:
        self.pipeline = pipeline
        self.items = items
        self.stop_event = asyncio.Event()
        self.task: asyncio.Future[list[None]] | None = None

    def start(self) -> None:
        runs = (run_source(self.pipeline, i, once=False, stop=self.stop_event) for i in self.items)
        self.task = asyncio.ensure_future(asyncio.gather(*runs))
        log.info(
            "schedule started in the server",
            extra={"sources": {i.connector.name: i.interval_seconds for i in self.items}},
        )

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.pipeline.stream.close()


def served_schedule(settings: Settings, stores: Stores, domains: set[str]) -> ServedSchedule | None:
    """The schedule for `nexus serve`, or None when NEXUS_INGEST_SOURCES is unset."""
    env = dict(os.environ)
    names = [name.strip() for name in env.get("NEXUS_INGEST_SOURCES", "").split(",")]
    if not any(names) or stores.analytics is None or stores.bus is None:
        return None
    from nexus.assembly.ingest.checkpoints import (
        AnalyticsDeadLetters,
        DeadLetterStore,
        RedisDeadLetters,
    )
    from nexus.assembly.ingest.stream import open_stream

    items = [
        item
        for item in plan(env.get("NEXUS_INGEST_CONFIG"), [n for n in names if n], env)
        if item.connector.domain in domains
    ]
    prefix = env.get("NEXUS_INGEST_REDIS_PREFIX", "nexus:")
    dead: DeadLetterStore = (
        AnalyticsDeadLetters(stores.analytics)
        if settings.redis_url.startswith("memory://")
        else RedisDeadLetters(settings.redis_url, prefix=prefix)
    )
    stream = open_stream(settings.redis_url, prefix=prefix)
    # Micro's sink embeds posts into the vectors the server already holds open.
    pipeline = Pipeline(stores.analytics, stores.bus, stream, dead, env, vectors=stores.vectors)
    pipeline.retry_policy()  # ConfigError now, while the server starts, not at the first run
    return ServedSchedule(pipeline, items)
