"""Schemathesis against the generated OpenAPI document, in-process over ASGI: for a few
generated requests per operation, no 5xx and every response (status, content type, headers,
body) as the document declares it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok
from starlette.applications import Starlette

from nexus.assembly import warmup
from nexus.auth.keys import DEV_KEY_NAME
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.platform import PlatformStore, upgrade
from nexus.stores.vectors import VectorStore
from subgraphs.platform.demo import load_demo as load_platform_demo
from tests.rest.conftest import assembled

EXAMPLES = 6  # generated requests per operation


@pytest.fixture
def conformance_app(
    analytics: ChdbStore,
    vectors: VectorStore,
    micro_load: dict[str, int],
    tmp_path: Path,
    signing_key_pem: bytes,
) -> Starlette:
    # Built without a running loop: schemathesis drives the app from its own (TestClient).
    url = f"sqlite:///{tmp_path / 'platform.db'}"

    async def prepare() -> None:
        await upgrade(url)
        store = PlatformStore.from_url(url)
        await load_platform_demo(store)
        await store.close()

    asyncio.run(prepare())
    # Compile the curve fits first, as `nexus serve` does at start (nexus/assembly/warmup.py):
    # a first Svensson compile can outlast the client's 10 s read timeout on a busy machine.
    warmup._macro()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / DEV_KEY_NAME).write_bytes(signing_key_pem)
    stores = Stores(
        settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}),
        platform=PlatformStore.from_url(url),
        analytics=analytics,
        vectors=vectors,
    )
    return assembled(stores)


def test_every_operation_conforms_to_the_document(conformance_app: Starlette) -> None:
    # One Hypothesis run per operation (schemathesis.pytest.from_fixture does not load under
    # this pytest), a few examples each: enough to cross every parameter's edges on 2 CPUs.
    api_schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", conformance_app)
    checked = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document loads
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            # Not positive_data_acceptance: a request can fit the document and still be refused
            # by a rule OpenAPI cannot state (`from` after `to`, `limit` 1 to 500); that 400 is
            # a problem document the other checks still validate.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        conforms()
        checked.append(operation.label)
    assert len(checked) == 27, checked
