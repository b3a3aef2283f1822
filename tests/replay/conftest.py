"""Fixtures: the demo's candles and posts in the shared chDB store, and an in-process bus."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus


@pytest.fixture
def replay_stores(analytics: ChdbStore, micro_load: dict[str, int], tmp_path: Path) -> Stores:
    """The crypto and micro demo data, and a bus whose queues hold a replayed month."""
    return Stores(
        settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}),
        analytics=analytics,
        bus=InProcessBus(queue_size=1_000_000),
    )
