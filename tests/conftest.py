"""Shared test fixtures: the machine's real PostgreSQL and Redis, and the ONE chDB store.

chDB allows one data path per process, so every test that needs the analytics store shares the
session-scoped `analytics` fixture below (demo data loaded once, read-only by convention; tests
that write use their own database or table names).

When CI=true, a missing PostgreSQL or Redis fails the run at start instead of skipping tests.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from nexus.stores.analytics import ChdbStore
from nexus.stores.vectors import VectorStore
from tests.support.processes import load_demo_into
from tests.support.redis_server import RedisServer

POSTGRES_URL = os.environ.get(
    "NEXUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# No engine warm-up in the apps and processes tests start (each would compile the curve fits
# beside the suite); tests/test_warmup.py turns it on where it is the subject.
os.environ.setdefault("NEXUS_WARMUP", "off")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") != "true":
        return
    missing = [
        name
        for name, url, port in (("PostgreSQL", POSTGRES_URL, 5432), ("Redis", REDIS_URL, 6379))
        if not _reachable(url, port)
    ]
    if missing:
        pytest.exit(
            f"CI=true but {' and '.join(missing)} is not reachable "
            f"({POSTGRES_URL.split('@')[-1]}, {REDIS_URL.split('@')[-1]}): start it; "
            "the platform and bus tests must run against the real services in CI.",
            returncode=3,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Outside CI, tests of a service that is not running are skipped with the reason.
    skips = {
        "postgres": (
            _reachable(POSTGRES_URL, 5432),
            "PostgreSQL is not running on " + POSTGRES_URL.split("@")[-1],
        ),
        "redis": (
            _reachable(REDIS_URL, 6379),
            "Redis is not running on " + REDIS_URL.split("@")[-1],
        ),
    }
    for item in items:
        for marker, (up, reason) in skips.items():
            if marker in item.keywords and not up:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def analytics_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="session")
def analytics(analytics_path: Path) -> Iterator[ChdbStore]:
    """The process's chDB store with the macro, crypto and micro demo data loaded once."""
    from subgraphs.crypto.demo import load_demo as load_crypto
    from subgraphs.macro.demo import load_demo as load_macro

    store = ChdbStore(analytics_path)

    async def load() -> None:
        await load_macro(store)
        await load_crypto(store)

    asyncio.run(load())
    yield store
    asyncio.run(store.close())


@pytest.fixture(scope="session")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    store = VectorStore(tmp_path_factory.mktemp("milvus") / "vectors.db")
    yield store
    asyncio.run(store.close())


@pytest.fixture(scope="session")
def micro_load(analytics: ChdbStore, vectors: VectorStore) -> dict[str, int]:
    """The rows the micro demo load reported (loaded once per test session)."""
    from subgraphs.micro.demo import load_demo

    return asyncio.run(load_demo(analytics, vectors))


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the whole demo dataset loaded, once per test session: servers
    started by tests that only need the demo data start from a copy of it
    (`NexusProcess(..., seed=demo_seed)`). Tests of the first start itself (tests/test_serve.py)
    start empty."""
    return load_demo_into(tmp_path_factory.mktemp("demo-seed"))


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis server of the module's own (the machine's `redis-server`, a free port)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
