"""Ingestion fixtures: the shared chDB (each test in databases of its own), the fake servers
on a free port, an in-process bus and stream.

Helpers for every connector's tests: `fake_servers` (a LiveServer with `.url`), `faults(...)`
to script failures, `make_pipeline(...)` for a Pipeline whose sinks write to fresh databases.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.fakes import fake_servers as fake_servers_app
from nexus.assembly.ingest.http import RetryPolicy
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.stream import InProcessRecordStream, RecordStream
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from tests.support.live import LiveServer

# Short waits so retry tests stay fast: 0.5 s per request, backoff at most 0.05 s.
FAST_RETRY = RetryPolicy(attempts=4, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=0.5)
API_KEY = "test-fred-key-0123456789abcdef"  # a secret: must never show in logs or letters


@pytest.fixture
async def fake_servers() -> AsyncIterator[LiveServer]:
    async with LiveServer(fake_servers_app()) as server:
        yield server


async def faults(server: LiveServer, path: str, *scripted: str) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{server.url}/_faults", json={"path": path, "faults": list(scripted)}
        )
        answer.raise_for_status()


async def hits(server: LiveServer) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{server.url}/_faults")
        result: dict[str, int] = answer.json()["hits"]
        return result


@dataclass
class Databases:
    macro: str
    state: str


@pytest.fixture
def databases() -> Databases:
    tag = uuid.uuid4().hex[:10]
    return Databases(macro=f"t_macro_{tag}", state=f"t_ingest_{tag}")


@pytest.fixture
def make_pipeline(
    analytics: ChdbStore, databases: Databases, fake_servers: LiveServer
) -> Callable[..., Pipeline]:
    def make(
        env: dict[str, str] | None = None,
        stream: RecordStream | None = None,
        bus: InProcessBus | None = None,
    ) -> Pipeline:
        return Pipeline(
            analytics=analytics,
            bus=bus or InProcessBus(),
            stream=stream or InProcessRecordStream(),
            dead=AnalyticsDeadLetters(analytics, databases.state),
            env={
                "NEXUS_INGEST_FAKE_URL": fake_servers.url,
                "FRED_API_KEY": API_KEY,
                **(env or {}),
            },
            retry=FAST_RETRY,
            databases={"macro": databases.macro},
            state_database=databases.state,
        )

    return make


def demo_path() -> Path:
    from nexus.demo import DEMO_DATA

    return DEMO_DATA
