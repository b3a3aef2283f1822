"""Fixtures: the micro fake servers behind the shared fault layer on a free port, and a
pipeline that writes to a database of its own in the shared chDB store (and a Milvus Lite file
of its own, so the demo's post vectors are untouched)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.fakes import FaultLayer, FaultPlan
from nexus.assembly.ingest.micro import fakes
from nexus.assembly.ingest.pipeline import Pipeline, RunReport
from nexus.assembly.ingest.records import Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.stream import InProcessRecordStream
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from nexus.stores.vectors import VectorStore
from subgraphs.micro.writer import MicroWriter
from tests.support.live import LiveServer

USER_AGENT = "Nexus-Alpha tests ops@example.com"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest-bearer-token-never-logged"


@pytest.fixture(scope="session")
def ingest_vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    store = VectorStore(tmp_path_factory.mktemp("ingest-micro-milvus") / "vectors.db")
    yield store
    asyncio.run(store.close())


def fake_app() -> FaultLayer:
    """The micro fakes as `nexus ingest fake-servers` mounts them, and at /x-limited an X
    that refuses every third request (429 with `x-rate-limit-reset`)."""
    return FaultLayer(
        Starlette(routes=[
            Mount("/sec", app=fakes.sec_app()),
            Mount("/x", app=fakes.x_app()),
            Mount("/x-limited", app=fakes.x_app(limit=2)),
            Mount("/x-stream", app=fakes.x_stream_app(bad_line=True)),
            Mount("/reddit", app=fakes.reddit_app()),
        ]),
        FaultPlan(),
    )


@dataclass
class Ingest:
    """A pipeline over the fakes, writing to `database`, and the fakes' fault controls."""

    pipeline: Pipeline
    server: LiveServer
    database: str
    bus: InProcessBus
    dead: AnalyticsDeadLetters

    @property
    def writer(self) -> MicroWriter:
        assert self.pipeline.vectors is not None
        return MicroWriter(self.pipeline.analytics, self.pipeline.vectors, self.database)

    async def run(self, name: str, window: Window | None = None) -> RunReport:
        return await self.pipeline.run(connector(name), window)

    async def faults(self, path: str, *faults: str) -> None:
        async with httpx.AsyncClient() as client:
            await client.post(f"{self.server.url}/_faults", json={"path": path,
                                                                  "faults": list(faults)})

    async def hits(self) -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            answer: dict[str, Any] = (await client.get(f"{self.server.url}/_faults")).json()
        return answer["hits"]

    async def reset_hits(self) -> None:
        async with httpx.AsyncClient() as client:
            await client.delete(f"{self.server.url}/_faults")

    async def count(self, table: str) -> int:
        rows = await self.pipeline.analytics.query(
            f"SELECT count() AS n FROM {self.database}.{table} FINAL"
        )
        return int(rows[0]["n"])


@pytest.fixture
async def ingest(
    analytics: ChdbStore, ingest_vectors: VectorStore, tmp_path: Path
) -> AsyncIterator[Ingest]:
    database = f"micro_ingest_{uuid.uuid4().hex[:10]}"
    bus = InProcessBus()
    dead = AnalyticsDeadLetters(analytics, f"{database}_state")
    async with LiveServer(fake_app()) as server:
        pipeline = Pipeline(
            analytics=analytics,
            bus=bus,
            stream=InProcessRecordStream(),
            dead=dead,
            env={
                "NEXUS_INGEST_FAKE_URL": server.url,
                "NEXUS_INGEST_TIMEOUT_SECONDS": "0.5",
                "NEXUS_SEC_USER_AGENT": USER_AGENT,
                "NEXUS_X_BEARER_TOKEN": TOKEN,
                "NEXUS_X_STREAM_SECONDS": "1.0",
                "NEXUS_REDDIT_SUBREDDITS": "wallstreetbets",
            },
            vectors=ingest_vectors,
            databases={"micro": database},
            state_database=f"{database}_state",
        )
        # Quick retries: the faults are scripted, the waits need not be long.
        from nexus.assembly.ingest.http import RetryPolicy

        pipeline.retry = RetryPolicy(attempts=4, base_seconds=0.05, timeout_seconds=0.5)
        yield Ingest(pipeline, server, database, bus, dead)
    for name in (database, f"{database}_state"):
        await analytics.command(f"DROP DATABASE IF EXISTS {name}")
