"""Configuration, read from environment variables only.

Every variable has a default that selects the embedded store, so a fresh machine needs none.
A value that cannot be used raises ConfigError naming the variable and what it accepts.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

# The replay feed's defaults: one market day per real minute, from the week before the
# January 2021 meme-stock squeeze (GME's first +57% day is 2021-01-13).
REPLAY_SPEED = 1440.0
REPLAY_TICK_SECONDS = 1.0
REPLAY_START = dt.date(2021, 1, 11)


class ConfigError(ValueError):
    """An environment variable holds a value this process cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    analytics_url: str
    vector_url: str
    redis_url: str
    log_level: str
    replay: bool = False  # run the replay feed (on by default with the embedded analytics store)
    replay_speed: float = REPLAY_SPEED  # market seconds per real second
    replay_tick_seconds: float = REPLAY_TICK_SECONDS  # real seconds between ticks
    replay_start: dt.date = REPLAY_START  # the market day the replay starts (and starts over) at
    shutdown_seconds: float = 30.0  # SIGTERM: in-flight work gets this long before cancellation

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        from nexus import heap  # its settings are read where the heap is set up; checked here

        heap.freeze_mode(env)
        heap.young_threshold(env)
        data_dir = Path(env.get("NEXUS_DATA_DIR", "./var")).resolve()
        analytics_url = env.get("ANALYTICS_URL", f"chdb://{data_dir / 'analytics'}")
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", f"sqlite+aiosqlite:///{data_dir / 'platform.db'}"),
            analytics_url=analytics_url,
            vector_url=env.get("VECTOR_URL", str(data_dir / "vectors.db")),
            redis_url=env.get("REDIS_URL", "memory://"),
            log_level=env.get("NEXUS_LOG_LEVEL", "INFO").upper(),
            # Production (a ClickHouse server) has live feeds: the replay is for the embedded demo.
            replay=_switch(env, "NEXUS_REPLAY", default=analytics_url.startswith("chdb://")),
            replay_speed=_number(env, "NEXUS_REPLAY_SPEED", REPLAY_SPEED, 1e-3, 1e9),
            replay_tick_seconds=_number(
                env, "NEXUS_REPLAY_TICK_SECONDS", REPLAY_TICK_SECONDS, 0.01, 3600.0
            ),
            replay_start=_date(env, "NEXUS_REPLAY_START", REPLAY_START),
            shutdown_seconds=_number(env, "NEXUS_SHUTDOWN_SECONDS", 30.0, 0.0, 3600.0),
        )

    def for_subgraph(self, name: str) -> Settings:
        """Settings of a subgraph run as its own process.

        chDB allows one data path per process, so an embedded analytics store gets a path of its
        own per subgraph; a configured server URL is kept as it is.
        """
        if not self.analytics_url.startswith("chdb://"):
            return self
        return replace(self, analytics_url=f"chdb://{self.data_dir / ('analytics-' + name)}")


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("on", "off"):
        raise ConfigError(f"{name} must be `on` or `off`, not {env[name]!r}")
    return value == "on"


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, not {env[name]!r}")
    return value


def _date(env: Mapping[str, str], name: str, default: dt.date) -> dt.date:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{name} must be a date as YYYY-MM-DD, not {env[name]!r}") from None
