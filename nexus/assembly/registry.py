"""Which stores each subgraph needs, opening them from the settings, and the subgraph registry."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from nexus.config import Settings
from nexus.stores import Stores
from nexus.subgraph import Subgraph

SUBGRAPH_NAMES = ("macro", "micro", "crypto", "platform")

NEEDS: dict[str, frozenset[str]] = {
    "macro": frozenset({"analytics"}),
    "crypto": frozenset({"analytics"}),
    "micro": frozenset({"analytics", "vectors"}),
    "platform": frozenset({"platform"}),
}


def load_subgraph(name: str) -> Subgraph:
    if name not in SUBGRAPH_NAMES:
        raise ValueError(f"unknown subgraph {name!r}: choose one of {', '.join(SUBGRAPH_NAMES)}")
    subgraph: Subgraph = importlib.import_module(f"subgraphs.{name}").subgraph
    return subgraph


def open_stores(settings: Settings, names: Iterable[str]) -> Stores:
    """Stores for the subgraphs `names` (connections are made lazily, on first use)."""
    needs = frozenset().union(*(NEEDS[name] for name in names))
    stores = Stores(settings=settings)
    if "analytics" in needs:
        from nexus.stores.analytics import open_analytics

        stores.analytics = open_analytics(settings.analytics_url)
    if "platform" in needs:
        from nexus.stores.platform import PlatformStore

        stores.platform = PlatformStore.from_url(settings.database_url)
    if "vectors" in needs:
        from nexus.stores.vectors import VectorStore

        stores.vectors = VectorStore(settings.vector_url)
    from nexus.stores.bus import open_bus

    stores.bus = open_bus(settings.redis_url)
    return stores
