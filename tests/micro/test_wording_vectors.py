"""Similar posts take a seen wording's vector from memory, not from the vector store."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nexus.stores.vectors import VectorStore
from subgraphs.micro import repository
from subgraphs.micro.repository import WordingVectors
from tests.micro.conftest import GraphQL

QUERY = '{ post(id: "reddit:eyoxvxv") { similar(limit: 4) { id } } }'


def test_the_cache_keeps_the_latest_wordings() -> None:
    cache = WordingVectors(2)
    cache.put_many({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert cache.get_many(["a"]) == {"a": [1.0, 2.0]}  # "a" is now the newest
    cache.put_many({"c": [5.0, 6.0]})
    assert set(cache.get_many(["a", "b", "c"])) == {"a", "c"}


async def test_a_second_query_skips_the_vector_store_get_and_answers_the_same(
    graphql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "_WORDING_VECTORS", WordingVectors(16))
    gets: list[list[str]] = []
    real = VectorStore.vectors_by_id

    async def counted(self: VectorStore, name: str, ids: Any) -> dict[str, list[float]]:
        gets.append(list(ids))
        found: dict[str, list[float]] = await real(self, name, ids)
        return found

    monkeypatch.setattr(VectorStore, "vectors_by_id", counted)

    first = await graphql(QUERY)
    second = await graphql(QUERY)

    assert first.errors is None and second.errors is None
    assert len(gets) == 1  # only the first query read the stored vector
    assert second.data == first.data
    assert len(first.data["post"]["similar"]) == 4
    [cached] = repository._WORDING_VECTORS.get_many(gets[0]).values()
    assert np.linalg.norm(cached) == pytest.approx(1.0, abs=1e-5)  # the stored unit vector
