"""CPU time of processes and of the machine, from /proc (Linux): what the benchmarks report
beside throughput, since other load on a shared machine steals the cores unevenly."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def stat(pid: int | str) -> list[str] | None:
    """/proc/PID/stat's fields after the command name, or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU seconds the processes have used so far (those gone count 0)."""
    total = 0
    for pid in pids:
        fields = stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS
