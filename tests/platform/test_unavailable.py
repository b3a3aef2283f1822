"""A platform database that does not answer reads as STORE_UNAVAILABLE, and never leaks its URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexus.config import Settings
from nexus.errors import StoreUnavailable
from nexus.stores import Stores
from nexus.stores.platform import PlatformStore, upgrade
from tests.platform.conftest import codes, graphql_on

DOWN_URLS = [
    pytest.param("postgresql://nexus:s3cret-pw@127.0.0.1:1/platform", id="postgresql"),
    pytest.param("sqlite:///{tmp}/no/such/dir/platform.db", id="sqlite"),
]


@pytest.fixture(params=DOWN_URLS)
async def down_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[PlatformStore]:
    store = PlatformStore.from_url(str(request.param).format(tmp=tmp_path))
    yield store
    await store.close()
    # aiosqlite leaves the worker thread of a failed connect to stop on its own; let it finish
    # while the event loop is still open, or it dies calling into a closed loop.
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 1.0)


async def test_queries_and_mutations_answer_store_unavailable(
    down_store: PlatformStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stores = Stores(
        settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}), platform=down_store
    )
    graphql = graphql_on(stores)

    read = await graphql('{ watchlist(id: "00000000-0000-4000-8000-000000000000") { id } }')
    write = await graphql(
        'mutation { signUp(input: {email: "a@b.co", password: "long enough", '
        'displayName: "A"}) { accessToken } }'
    )

    for result in (read, write):
        assert codes(result) == ["STORE_UNAVAILABLE"]
        assert result.errors is not None
        message = result.errors[0].message
        assert message == "The platform store is unavailable; retry later."
    logged = caplog.text
    assert "platform store unavailable" in logged
    for secret in ("s3cret", "127.0.0.1", str(tmp_path)):
        assert secret not in logged


async def test_ping_and_upgrade_raise_store_unavailable(down_store: PlatformStore) -> None:
    with pytest.raises(StoreUnavailable):
        await down_store.ping()
    with pytest.raises(StoreUnavailable):
        await upgrade(down_store.engine.url.render_as_string(hide_password=False))


async def test_ping_answers_on_a_live_store(store: PlatformStore) -> None:
    await store.ping()
