"""`nexus ingest ...`: backfills, the schedule, dead letters, the fake servers.

nexus ingest list
nexus ingest SOURCE [--since DATE] [--until DATE] [--only KEY,KEY]
nexus ingest --schedule [--config FILE] [--sources NAME,NAME]
nexus ingest dead-letters [--source NAME] [--limit N] [--replay]
nexus ingest fake-servers [--host H] [--port N] [--cache-responses] [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from nexus.assembly.ingest.records import Window
from nexus.config import ConfigError, Settings

SUBCOMMANDS = ("list", "dead-letters", "fake-servers")


def main(argv: Sequence[str], settings: Settings) -> int:
    args = list(argv)
    if args and args[0] in SUBCOMMANDS:
        return _subcommand(args, settings)
    parser = argparse.ArgumentParser(
        prog="nexus ingest",
        description="Fetch a source into its store (a backfill over --since/--until, or from its "
        "cursor to now), or run every source on its schedule. Other commands: "
        + ", ".join(SUBCOMMANDS),
    )
    parser.add_argument("source", nargs="?", help="the source (see `nexus ingest list`)")
    parser.add_argument("--since", type=_when, help="start of the window (YYYY-MM-DD or ISO time)")
    parser.add_argument("--until", type=_when, help="end of the window (YYYY-MM-DD or ISO time)")
    parser.add_argument(
        "--only", default="", help="comma-separated keys: series ids, tickers, symbols"
    )
    parser.add_argument(
        "--schedule", action="store_true", help="run sources on their intervals until stopped"
    )
    parser.add_argument("--config", help="schedule file (TOML), see the README")
    parser.add_argument("--sources", default="", help="with --schedule: only these sources")
    parser.add_argument(
        "--once", action="store_true", help="with --schedule: one round of every source, then exit"
    )
    parsed = parser.parse_args(args)
    from nexus.assembly.ingest.registry import connectors

    if parsed.schedule:
        from nexus.assembly.ingest.schedule import run_schedule

        return asyncio.run(
            _settled(
                run_schedule(
                    settings,
                    config=parsed.config,
                    sources=_names(parsed.sources),
                    once=parsed.once,
                )
            )
        )
    if not parsed.source:
        parser.error("name a SOURCE or pass --schedule")
    if parsed.source not in connectors():
        parser.error(f"unknown source {parsed.source!r}: one of {', '.join(connectors())}")
    window = Window(parsed.since, parsed.until, tuple(_names(parsed.only)))
    return asyncio.run(_settled(_backfill(settings, parsed.source, window)))


async def _settled(run: Coroutine[Any, Any, int]) -> int:
    """`run` with the startup heap frozen, as `nexus serve` does: without it every full
    collection walks the ~150,000 objects of the imports (0.1-0.17 s each, about one per
    backfill of a few thousand rows on this machine) on the loop that fetches and stores."""
    from nexus import heap
    from nexus.assembly.ingest import runtime  # noqa: F401  (the stores, the pipeline)
    from nexus.assembly.ingest.registry import connectors

    connectors()  # every connector's modules imported: part of the frozen heap
    heap.freeze_startup_heap()
    watch = asyncio.create_task(heap.watch_event_loop(), name="loop watch")
    try:
        return await run
    finally:
        watch.cancel()


async def _backfill(settings: Settings, name: str, window: Window) -> int:
    from nexus.assembly.ingest.progress import Progress
    from nexus.assembly.ingest.registry import connector
    from nexus.assembly.ingest.runtime import open_pipeline

    pipeline, close = open_pipeline(settings, connector(name).domain)
    progress = Progress(sys.stderr)
    try:
        report = await pipeline.run(connector(name), window, on_batch=progress.update)
    except ConfigError as error:
        print(f"nexus ingest: {error}", file=sys.stderr)
        return 2
    finally:
        progress.finish()
        await close()
    print(
        f"{name}: {report.rows:,} rows in {report.batches:,} batches, "
        f"{report.dead_letters:,} dead letters, {report.events:,} events, "
        f"{report.seconds:.1f} s" + (f"; stopped: {report.error}" if report.error else "")
    )
    return 1 if report.error else 0


def _subcommand(args: list[str], settings: Settings) -> int:
    command, rest = args[0], args[1:]
    if command == "list":
        from nexus.assembly.ingest.registry import connectors

        for name, found in connectors().items():
            print(f"{name:<16} {found.domain:<7} {found.description}")
        return 0
    if command == "fake-servers":
        parser = argparse.ArgumentParser(
            prog="nexus ingest fake-servers",
            description="serve every connector's fake API (recorded formats, scripted faults)",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900)
        parser.add_argument(
            "--cache-responses",
            action="store_true",
            help="answer a repeated request with the bytes sent before (benchmarks: the fakes' "
            "own page building off the measured run)",
        )
        parser.add_argument(
            "--latency-ms",
            type=float,
            default=0.0,
            help="make each request to a fake API wait this many milliseconds first, as a "
            "remote API's round trip does (benchmarks; 0 to 10,000)",
        )
        parsed = parser.parse_args(rest)
        if not 0 <= parsed.latency_ms <= 10_000:
            parser.error("--latency-ms must be 0 to 10,000 milliseconds")
        import uvicorn

        from nexus.assembly.ingest.fakes import fake_servers

        print(
            f"fake servers on http://{parsed.host}:{parsed.port}: set "
            f"NEXUS_INGEST_FAKE_URL=http://{parsed.host}:{parsed.port}",
            file=sys.stderr,
        )
        uvicorn.run(
            fake_servers(
                cache_responses=parsed.cache_responses, latency_seconds=parsed.latency_ms / 1000
            ),
            host=parsed.host,
            port=parsed.port,
            log_level="warning",
        )
        return 0
    parser = argparse.ArgumentParser(
        prog="nexus ingest dead-letters",
        description="list what ingestion could not use; --replay stores it again",
    )
    parser.add_argument("--source", help="only this source's letters")
    parser.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    parser.add_argument("--replay", action="store_true", help="replay them, then remove stored")
    parsed = parser.parse_args(rest)
    from nexus.assembly.ingest.deadletters import show_or_replay

    return asyncio.run(show_or_replay(settings, parsed.source, parsed.limit, parsed.replay))


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _when(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD or an ISO time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
