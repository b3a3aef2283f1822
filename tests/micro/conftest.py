"""Fixtures: the micro demo loaded once into the shared chDB store and a Milvus Lite file,
and a `graphql` callable that runs operations on the micro subgraph as a client would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.vectors import VectorStore
from subgraphs.micro import subgraph

GraphQL = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture
def micro_stores(
    analytics: ChdbStore, vectors: VectorStore, micro_load: dict[str, int], tmp_path: Path
) -> Stores:
    return Stores(
        settings=Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)}),
        analytics=analytics,
        vectors=vectors,
    )


@pytest.fixture
def graphql(micro_stores: Stores) -> GraphQL:
    async def execute(query: str, **variables: Any) -> ExecutionResult:
        return await subgraph.schema.execute(
            query, variable_values=variables, context_value=subgraph.make_context(micro_stores)
        )

    return execute
