"""The progress line of a long backfill: on a terminal, one line rewritten in place; elsewhere
(a log file, CI) nothing extra, since every batch is in the structured logs."""

from __future__ import annotations

import time
from typing import TextIO

from nexus.assembly.ingest.pipeline import RunReport


class Progress:
    def __init__(self, stream: TextIO, *, every_seconds: float = 0.2) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.every_seconds = every_seconds
        self.shown = 0.0
        self.width = 0

    def update(self, report: RunReport) -> None:
        now = time.monotonic()
        if not self.live or now - self.shown < self.every_seconds:
            return
        self.shown = now
        line = (
            f"{report.source}: {report.batches:,} batches, {report.rows:,} rows "
            f"({report.rows_per_second:,.0f}/s), {report.dead_letters:,} dead letters, "
            f"{report.retries:,} retries, {report.seconds:.0f} s"
        )
        self.stream.write("\r" + line.ljust(self.width))
        self.width = len(line)
        self.stream.flush()

    def finish(self) -> None:
        if self.live and self.width:
            self.stream.write("\n")
            self.stream.flush()
