"""The stores a process holds open, one adapter per store kind.

| kind      | production                  | embedded default            |
|-----------|-----------------------------|-----------------------------|
| platform  | PostgreSQL (asyncpg)        | SQLite (aiosqlite)          |
| analytics | ClickHouse server (HTTP)    | chDB in-process             |
| vectors   | Milvus                      | Milvus Lite (a local file)  |
| bus       | Redis pub/sub               | in-process broker           |

A process opens only the kinds its subgraphs need (`nexus subgraph macro` never touches Milvus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nexus.config import Settings
    from nexus.stores.analytics import AnalyticsStore
    from nexus.stores.bus import Bus
    from nexus.stores.platform import PlatformStore
    from nexus.stores.vectors import VectorStore


def _in_process_bus() -> Bus:
    from nexus.stores.bus import InProcessBus

    return InProcessBus()


@dataclass(slots=True)
class Stores:
    settings: Settings
    platform: PlatformStore | None = None
    analytics: AnalyticsStore | None = None
    vectors: VectorStore | None = None
    bus: Bus | None = field(default_factory=_in_process_bus)  # the embedded default

    def require_platform(self) -> PlatformStore:
        if self.platform is None:
            raise RuntimeError("this process was started without the platform store")
        return self.platform

    def require_analytics(self) -> AnalyticsStore:
        if self.analytics is None:
            raise RuntimeError("this process was started without the analytics store")
        return self.analytics

    def require_vectors(self) -> VectorStore:
        if self.vectors is None:
            raise RuntimeError("this process was started without the vector store")
        return self.vectors

    def require_bus(self) -> Bus:
        if self.bus is None:
            raise RuntimeError("this process was started without the event bus")
        return self.bus

    async def close(self) -> None:
        for store in (self.platform, self.analytics, self.vectors, self.bus):
            if store is not None:
                await store.close()
