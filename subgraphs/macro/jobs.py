"""The simulation job queue: a bounded worker pool, a bounded queue, a cap per caller.

Five 200,000-path, 30-year simulations were once accepted at once and saturated the CPU for
80 s. Jobs now wait for one of `workers` slots; a caller may hold `per_caller` jobs queued or
running, and the queue holds `max_queued` in all: past either, `startRateSimulation` is refused
with TOO_MANY_JOBS and nothing starts.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nexus.errors import BadUserInput, CodedError

BATCHES = 5


class TooManyJobs(CodedError):
    """A cap on simulation jobs is reached; retry once a job has finished."""

    code = "TOO_MANY_JOBS"


@dataclass(frozen=True, slots=True)
class JobLimits:
    workers: int = 2
    per_caller: int = 2
    max_queued: int = 20
    # A runner with jobs renews its lease every third of this; a job whose runner's lease
    # expired (its process was killed) is saved FAILED by the next process that looks at it.
    lease_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobLimits:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            workers=int(env.get("NEXUS_SIMULATION_WORKERS", default.workers)),
            per_caller=int(env.get("NEXUS_SIMULATION_JOBS_PER_CALLER", default.per_caller)),
            max_queued=int(env.get("NEXUS_SIMULATION_QUEUE", default.max_queued)),
            lease_seconds=float(env.get("NEXUS_SIMULATION_LEASE_SECONDS", default.lease_seconds)),
        )


class JobSlots:
    """Admission (per caller, queue length) and the worker slots jobs run in."""

    def __init__(self, limits: JobLimits | None = None) -> None:
        self.limits = limits or JobLimits.from_env()
        self._workers = asyncio.Semaphore(self.limits.workers)
        self._held: dict[str, int] = {}  # caller -> jobs queued or running

    def admit(self, caller: str) -> None:
        """Count a new job of `caller`, or raise TooManyJobs."""
        if self._held.get(caller, 0) >= self.limits.per_caller:
            raise TooManyJobs(
                f"You have {self.limits.per_caller} simulations queued or running, the most "
                "allowed; wait for one to finish."
            )
        if sum(self._held.values()) >= self.limits.max_queued:
            raise TooManyJobs(
                f"{self.limits.max_queued} simulations are queued or running, the most the "
                "server takes; retry in a minute."
            )
        self._held[caller] = self._held.get(caller, 0) + 1

    def release(self, caller: str) -> None:
        left = self._held.get(caller, 0) - 1
        if left > 0:
            self._held[caller] = left
        else:
            self._held.pop(caller, None)

    @property
    def worker(self) -> asyncio.Semaphore:
        return self._workers


def batch_plan(paths: int) -> tuple[int, int]:
    """(batches, paths per batch): antithetic pairs, so each batch runs an even count of at
    least 2, and a small job (2 or 3 paths) runs as one batch instead of five empty ones."""
    batches = max(1, min(BATCHES, paths // 2))
    return batches, max(2, paths // batches // 2 * 2)


def check_rates(base_rate_percent: float | None, long_term_mean_percent: float | None) -> None:
    """Rates in a range whose discount factors stay finite over 30 years."""
    for value, name in (
        (base_rate_percent, "baseRatePercent"),
        (long_term_mean_percent, "longTermMeanPercent"),
    ):
        if value is not None and not -20.0 <= value <= 100.0:
            raise BadUserInput(f"`{name}` must be between -20 and 100 (percent).", argument=name)


def finite(result: Any) -> bool:
    """Whether every number in a job's result is finite (a NaN result is a failed job)."""
    if isinstance(result, float):
        return math.isfinite(result)
    if isinstance(result, Mapping):
        return all(finite(v) for v in result.values())
    if isinstance(result, list | tuple):
        return all(finite(v) for v in result)
    return True
