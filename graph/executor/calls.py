"""Per-subgraph timeouts and retries of the HTTP transport, from the environment.

`NEXUS_SUBGRAPH_TIMEOUT_SECONDS` (default 10) and `NEXUS_SUBGRAPH_RETRIES` (default 0) apply to
every subgraph; `NEXUS_SUBGRAPH_TIMEOUTS` and `NEXUS_SUBGRAPH_RETRIES_PER` (`crypto=2,macro=5`)
override them per subgraph. A retry is made only for a query (never a mutation) whose subgraph
could not be reached, did not answer in time, or answered 502, 503 or 504, after a short
doubling backoff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TIMEOUT_SECONDS = 10.0
BACKOFF_SECONDS = 0.05  # before the first retry; doubled before each next one
MAX_RETRIES = 5


class CallConfigError(ValueError):
    """A subgraph call setting that cannot be read; the message names the variable."""


@dataclass(frozen=True, slots=True)
class SubgraphCalls:
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retries: int = 0
    timeouts: Mapping[str, float] = field(default_factory=dict)
    retries_per: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SubgraphCalls:
        env = os.environ if env is None else env
        timeout = _positive(
            "NEXUS_SUBGRAPH_TIMEOUT_SECONDS",
            env.get("NEXUS_SUBGRAPH_TIMEOUT_SECONDS", str(DEFAULT_TIMEOUT_SECONDS)),
        )
        retries = _retries("NEXUS_SUBGRAPH_RETRIES", env.get("NEXUS_SUBGRAPH_RETRIES", "0"))
        timeouts = {
            name: _positive("NEXUS_SUBGRAPH_TIMEOUTS", value)
            for name, value in _pairs("NEXUS_SUBGRAPH_TIMEOUTS", env)
        }
        retries_per = {
            name: _retries("NEXUS_SUBGRAPH_RETRIES_PER", value)
            for name, value in _pairs("NEXUS_SUBGRAPH_RETRIES_PER", env)
        }
        return cls(timeout, retries, timeouts, retries_per)

    def timeout_of(self, service: str) -> float:
        return self.timeouts.get(service, self.timeout_seconds)

    def retries_of(self, service: str) -> int:
        return self.retries_per.get(service, self.retries)

    @property
    def longest_timeout(self) -> float:
        return max([self.timeout_seconds, *self.timeouts.values()])


def _pairs(name: str, env: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for item in (part.strip() for part in env.get(name, "").split(",")):
        if not item:
            continue
        service, sep, value = item.partition("=")
        if not sep or not service.strip():
            raise CallConfigError(
                f"{name} takes SUBGRAPH=VALUE pairs, comma-separated; got {item!r}"
            )
        pairs.append((service.strip(), value.strip()))
    return pairs


def _positive(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise CallConfigError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def _retries(name: str, raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) > MAX_RETRIES:
        raise CallConfigError(f"{name} must be a whole number from 0 to {MAX_RETRIES}, not {raw!r}")
    return int(raw)
