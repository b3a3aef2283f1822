"""Crypto ingestion against its fake servers (real HTTP and WebSocket on a free port), into a
database of its own in the shared chDB store, through the real pipeline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from nexus.assembly.ingest.checkpoints import AnalyticsDeadLetters
from nexus.assembly.ingest.connectors.binance_fake import binance_fake
from nexus.assembly.ingest.connectors.ethereum_fake import FIRST_BLOCK, FakeChain, ethereum_fake
from nexus.assembly.ingest.fakes import FaultLayer, FaultPlan
from nexus.assembly.ingest.pipeline import Pipeline, RunReport
from nexus.assembly.ingest.records import Batch, Window
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.source import SourceConfig
from nexus.assembly.ingest.stream import InProcessRecordStream
from nexus.stores.analytics import ChdbStore
from nexus.stores.bus import InProcessBus
from tests.support.live import LiveServer

TEST_HEAD = FIRST_BLOCK + 59  # 60 blocks: three batches of 20


@dataclass
class CryptoIngest:
    """A pipeline writing to `database`, the fake servers it reads, and their controls."""

    analytics: ChdbStore
    bus: InProcessBus
    database: str
    server: LiveServer
    chain: FakeChain
    env: dict[str, str]

    def pipeline(self, **env: str) -> Pipeline:
        state = f"{self.database}_state"
        return Pipeline(
            self.analytics, self.bus, InProcessRecordStream(),
            AnalyticsDeadLetters(self.analytics, state), {**self.env, **env},
            databases={"crypto": self.database}, state_database=state,
        )

    async def run(self, name: str, **env: str) -> RunReport:
        return await self.pipeline(**env).run(connector(name))

    async def fetched(self, name: str, window: Window, **env: str) -> list[Batch]:
        """What source `name` yields from an empty cursor, as the pipeline drives it (the same
        HTTP client, rate and retry policy), nothing stored."""
        source = connector(name)
        pipeline = self.pipeline(**env)
        config = SourceConfig(pipeline.base_url(source), pipeline.env)
        http = pipeline.http(source)
        try:
            return [batch async for batch in source.source(config).fetch(http, {}, window)]
        finally:
            await http.close()

    async def faults(self, path: str, *faults: str) -> None:
        async with httpx.AsyncClient() as client:
            await client.post(f"{self.server.url}/_faults", json={"path": path,
                                                                 "faults": list(faults)})

    async def hits(self) -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            answer: dict[str, Any] = (await client.get(f"{self.server.url}/_faults")).json()
        return answer["hits"]

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return await self.analytics.query(sql.format(db=self.database))


@pytest.fixture
async def ingest(analytics: ChdbStore) -> AsyncIterator[CryptoIngest]:
    chain = FakeChain(head=TEST_HEAD)
    app = FaultLayer(
        Starlette(routes=[
            Mount("/ethereum", app=ethereum_fake(chain)),
            Mount("/binance-trades", app=binance_fake()),
            Mount("/binance", app=binance_fake()),
        ]),
        FaultPlan(),
    )
    database = f"crypto_ingest_{uuid.uuid4().hex[:10]}"
    async with LiveServer(app) as server:
        env = {
            "NEXUS_INGEST_FAKE_URL": server.url,
            "NEXUS_INGEST_TIMEOUT_SECONDS": "0.5",
            "NEXUS_ETHEREUM_START_BLOCK": str(FIRST_BLOCK),
            "NEXUS_ETHEREUM_BLOCKS_PER_REQUEST": "20",
            "NEXUS_BINANCE_STREAM_SECONDS": "0.8",
        }
        yield CryptoIngest(analytics, InProcessBus(), database, server, chain, env)
    await analytics.command(f"DROP DATABASE IF EXISTS {database}")
    await analytics.command(f"DROP DATABASE IF EXISTS {database}_state")
