"""`nexus ingest --schedule`: every source on its own interval, until stopped.

Intervals come from, in order: the config file (TOML, `--config`), NEXUS_INGEST_<NAME>_INTERVAL
(seconds), the connector's default. The file may also narrow a source's keys:

    [fred]
    interval_seconds = 3600
    only = ["WALCL", "RRPONTSYD", "WTREGEN", "DGS10", "DGS2"]

    [treasury]
    interval_seconds = 21600

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

from nexus.config import ConfigError, Settings
from nexus.ingest.pipeline import Pipeline
from nexus.ingest.records import Window
from nexus.ingest.registry import connectors
from nexus.ingest.source import Connector

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
    from nexus.ingest.runtime import open_pipeline

    env = dict(os.environ)
    try:
        items = plan(config, sources, env)
    except (ConfigError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"nexus ingest: {error}")
        return 2
    # One analytics store serves every domain (three databases on one chDB path or server).
    # Micro's sink embeds posts: the pipeline then holds the vector store too.
    domain = "micro" if any(item.connector.vectors for item in items) else "macro"
    pipeline, close = open_pipeline(settings, domain, env)
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
