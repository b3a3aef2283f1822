"""A store loaded by an earlier version (no ingestion tables) gets them on the next start."""

from __future__ import annotations

import io

from nexus.assembly.demo import load_demo
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.crypto import subgraph
from tests.support.graphql import execute


async def test_serve_creates_the_tables_an_upgrade_added(analytics: ChdbStore) -> None:
    stores = Stores(settings=Settings.from_env({}), analytics=analytics)
    await analytics.command("DROP TABLE IF EXISTS crypto.chain_pools")
    progress = io.StringIO()
    await load_demo(stores, ["crypto"], only_missing=True, out=progress)
    assert "already loaded" in progress.getvalue()
    response = await execute(subgraph, stores, "{ pools { id synthetic } }")
    assert "errors" not in response
    assert {pool["synthetic"] for pool in response["data"]["pools"]} == {True}
