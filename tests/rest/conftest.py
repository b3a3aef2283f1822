"""The assembled graph (four subgraphs in-process over the session's demo stores, a fresh
SQLite platform store with its demo data) behind the gateway app that serves /graphql and the
REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from graph.edge.authn import TokenCache
from graph.edge.budget import InProcessBudget
from graph.edge.demand import DemandControl
from graph.edge.trusted import TrustedDocumentGate
from graph.edge.usage import UsageMeter
from graph.gateway import create_app
from graph.in_process import router_for_subgraphs
from nexus.assembly.registry import SUBGRAPH_NAMES, load_subgraph
from nexus.auth.keys import DEV_KEY_NAME, generate_key
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.platform import PlatformStore, upgrade
from nexus.stores.vectors import VectorStore
from subgraphs.platform.billing import PlatformUsageSink
from subgraphs.platform.demo import load_demo as load_platform_demo
from subgraphs.platform.services import authenticator_for
from subgraphs.platform.trusted_documents import TrustedDocuments


@pytest.fixture(scope="session")
def signing_key_pem() -> bytes:
    return generate_key().as_pem(private=True)


@pytest.fixture
async def stores(
    analytics: ChdbStore,
    vectors: VectorStore,
    micro_load: dict[str, int],
    tmp_path: Path,
    signing_key_pem: bytes,
) -> AsyncIterator[Stores]:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    await upgrade(url)
    platform = PlatformStore.from_url(url)
    await load_platform_demo(platform)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / DEV_KEY_NAME).write_bytes(signing_key_pem)
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)})
    yield Stores(settings=settings, platform=platform, analytics=analytics, vectors=vectors)
    await platform.close()


def assembled(
    stores: Stores, *, enforce: bool = False, trusted_cache_seconds: float = 60.0
) -> Starlette:
    """The gateway as `nexus serve` builds it: the platform's Authenticator at the edge and
    demand control (in-process budget); `enforce` refuses over the plan and the budget, else
    it measures only (so tests that page through lists do not spend an anonymous budget).
    Trusted documents are cached for `trusted_cache_seconds`, evicted by the bus's events."""
    subgraphs = [load_subgraph(name) for name in SUBGRAPH_NAMES]
    demand = DemandControl(InProcessBudget(), enforce=enforce)
    usage = UsageMeter(PlatformUsageSink(stores.require_platform()))
    router = router_for_subgraphs(subgraphs, stores, demand=demand, usage=usage)
    trusted = TrustedDocumentGate(
        TrustedDocuments(stores.require_platform()),
        cache_seconds=trusted_cache_seconds,
        bus=stores.bus,
    )
    app = create_app(
        router, authenticator=TokenCache(authenticator_for(stores)), trusted_documents=trusted
    )
    app.state.graph_router = router  # for tests that flush its usage meter
    app.state.trusted_documents = trusted  # for tests that wait for its bus subscription
    return app


@pytest.fixture
async def app(stores: Stores) -> AsyncIterator[Starlette]:
    app = assembled(stores)
    yield app
    await app.state.graph_router.close()  # its usage meter's last writes


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as client:
        yield client


@pytest.fixture
async def strict_client(stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with demand control enforced, as `NEXUS_DEMAND_CONTROL=on`."""
    transport = httpx.ASGITransport(app=assembled(stores, enforce=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as client:
        yield client
