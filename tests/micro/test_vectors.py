"""The vector store on its own: search order, and an unreachable Milvus."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.errors import StoreUnavailable
from nexus.stores import Stores
from nexus.stores.vectors import VectorStore
from subgraphs.micro import subgraph
from subgraphs.micro.embedding import DIMENSIONS, analyse


async def test_search_returns_the_nearest_rows_most_similar_first(vectors: VectorStore) -> None:
    texts = {"a": "$GME to the moon", "b": "$AMC to the moon", "c": "quiet day for bonds"}
    await vectors.ensure_collection("test_search", DIMENSIONS)
    vectors_by_id = zip(texts, analyse(list(texts.values())).vectors.tolist(), strict=True)
    await vectors.upsert("test_search", [{"id": id_, "vector": v} for id_, v in vectors_by_id])

    [hits] = await vectors.search("test_search", analyse(["$GME moon"]).vectors.tolist(), limit=3)

    assert [hit.id for hit in hits][:2] == ["a", "b"]
    assert hits[0].similarity > hits[1].similarity > hits[2].similarity
    assert await vectors.count("test_search") == 3


async def test_an_unreachable_milvus_is_store_unavailable_without_its_address() -> None:
    store = VectorStore("http://127.0.0.1:9", timeout=1.0)

    with pytest.raises(StoreUnavailable) as raised:
        await store.ping()

    assert raised.value.extensions == {"code": "STORE_UNAVAILABLE", "store": "vectors"}
    assert "127.0.0.1" not in str(raised.value)
    await store.close()


async def test_similar_posts_with_milvus_down_is_a_coded_error_and_the_rest_resolves(
    micro_stores: Stores,
) -> None:
    down = VectorStore("http://127.0.0.1:9", timeout=1.0)
    stores = Stores(settings=micro_stores.settings, analytics=micro_stores.analytics, vectors=down)

    result = await subgraph.schema.execute(
        '{ stock(symbol: "GME") { name } post(id: "reddit:eyoxvxv") { id similar { id } } }',
        context_value=subgraph.make_context(stores),
    )

    assert result.data == {"stock": {"name": "GameStop Corp."}, "post": None}
    assert [error.extensions for error in result.errors or []] == [
        {"code": "STORE_UNAVAILABLE", "store": "vectors"}
    ]
    await down.close()


async def test_a_reopened_store_searches_what_another_process_wrote(tmp_path: Path) -> None:
    path = tmp_path / "vectors.db"
    texts = {"a": "$GME to the moon", "b": "quiet day for bonds"}
    writer = VectorStore(path)
    await writer.ensure_collection("reopened", DIMENSIONS)
    embedded = analyse(list(texts.values())).vectors.tolist()
    rows = [{"id": k, "vector": v} for k, v in zip(texts, embedded, strict=True)]
    await writer.upsert("reopened", rows)
    await writer.close()

    reader = VectorStore(path)
    [hits] = await reader.search("reopened", [embedded[1]], limit=2)
    stored = await reader.vectors_by_id("reopened", ["a", "missing"])
    await reader.close()

    assert [hit.id for hit in hits] == ["b", "a"]
    assert list(stored) == ["a"]
    assert stored["a"] == pytest.approx(embedded[0], abs=1e-6)
