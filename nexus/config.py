"""Configuration, read from environment variables only.

Every variable has a default that selects the embedded store, so a fresh machine needs none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    analytics_url: str
    vector_url: str
    redis_url: str
    log_level: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("NEXUS_DATA_DIR", "./var")).resolve()
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", f"sqlite+aiosqlite:///{data_dir / 'platform.db'}"),
            analytics_url=env.get("ANALYTICS_URL", f"chdb://{data_dir / 'analytics'}"),
            vector_url=env.get("VECTOR_URL", str(data_dir / "vectors.db")),
            redis_url=env.get("REDIS_URL", "memory://"),
            log_level=env.get("NEXUS_LOG_LEVEL", "INFO").upper(),
        )

    def for_subgraph(self, name: str) -> Settings:
        """Settings of a subgraph run as its own process.

        chDB allows one data path per process, so an embedded analytics store gets a path of its
        own per subgraph; a configured server URL is kept as it is.
        """
        if not self.analytics_url.startswith("chdb://"):
            return self
        return replace(self, analytics_url=f"chdb://{self.data_dir / ('analytics-' + name)}")
