"""The vector store: nearest-neighbour search over embeddings, through pymilvus.

`VECTOR_URL` is a Milvus Lite file path (`<data_dir>/vectors.db`, the embedded default) or a
Milvus server URI (`http(s)://host:19530`); both speak the same `MilvusClient` API. Collections
here have a string primary key `id`, a float `vector` under cosine similarity, and whatever
scalar fields the rows carry (dynamic fields), so a caller's rows are plain dicts.

pymilvus is blocking; every call runs on the store's worker thread so the event loop never
waits on Milvus. A store that cannot be reached raises `StoreUnavailable("vectors")`, whose
message never names the URI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from nexus.errors import StoreUnavailable
from nexus.metrics import store_query

log = logging.getLogger("nexus.vectors")

T = TypeVar("T")
VectorRow = Mapping[str, Any]

# Upserts go in slices so one request body stays well under Milvus's gRPC message limit.
_UPSERT_SLICE = 5000
_ID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One search hit: the row's primary key and its cosine similarity to the query vector."""

    id: str
    similarity: float


def _is_connection_error(error: BaseException) -> bool:
    from pymilvus.exceptions import (
        ConnectError,
        ConnectionNotExistException,
        MilvusUnavailableException,
    )

    return isinstance(
        error, ConnectError | ConnectionNotExistException | MilvusUnavailableException | OSError
    )


class VectorStore:
    """Milvus (or Milvus Lite) through one `MilvusClient`, on one worker thread."""

    def __init__(self, uri: str | Path, *, timeout: float = 10.0) -> None:
        self.uri = str(uri)
        self.timeout = timeout
        self.round_trips = 0
        # Milvus Lite's client is not safe to share across threads: one thread serialises calls.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="milvus")
        self._client: Any = None
        self._loaded: set[str] = set()  # collections loaded for search by this client

    def _connected(self) -> Any:
        if self._client is None:
            from pymilvus import MilvusClient

            if "://" not in self.uri:
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._client = MilvusClient(uri=self.uri, timeout=self.timeout)
            except Exception as error:
                # Any failure to open is the store being unreachable; the message names the URI.
                log.error("Milvus unavailable: %s", type(error).__name__)
                raise StoreUnavailable("vectors") from error
        return self._client

    async def _call(self, operation: Callable[[Any], T]) -> T:
        self.round_trips += 1

        def call() -> T:
            return operation(self._connected())

        try:
            with store_query("vectors", "milvus", getattr(operation, "__name__", "call")):
                return await asyncio.get_running_loop().run_in_executor(self._worker, call)
        except StoreUnavailable:
            raise
        except Exception as error:
            if not _is_connection_error(error):
                raise
            log.error("Milvus unavailable: %s", type(error).__name__)
            raise StoreUnavailable("vectors") from error

    def _load(self, client: Any, name: str) -> None:
        """Load `name` for reads once per client: a collection another process wrote (a
        store reopened) starts released, and Milvus refuses to search or get it until then."""
        if name not in self._loaded:
            client.load_collection(name)
            self._loaded.add(name)

    async def ensure_collection(self, name: str, dimension: int) -> None:
        """Create collection `name` (string `id`, `dimension`-float `vector`) unless it exists."""

        def ensure(client: Any) -> None:
            from pymilvus import DataType, MilvusClient

            if client.has_collection(name):
                return
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=_ID_LENGTH)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
            index = client.prepare_index_params()
            # FLAT is exact search: right for demo-sized collections; production tunes HNSW.
            index.add_index(field_name="vector", index_type="FLAT", metric_type="COSINE")
            client.create_collection(name, schema=schema, index_params=index)

        await self._call(ensure)

    async def upsert(self, name: str, rows: Sequence[VectorRow]) -> int:
        """Insert or replace `rows` (each with `id` and `vector`) by primary key; the row count."""

        def upsert(client: Any) -> int:
            written = 0
            for start in range(0, len(rows), _UPSERT_SLICE):
                chunk = [dict(row) for row in rows[start : start + _UPSERT_SLICE]]
                written += int(client.upsert(name, chunk)["upsert_count"])
            return written

        return await self._call(upsert) if rows else 0

    async def search(
        self,
        name: str,
        vectors: Sequence[Sequence[float]],
        limit: int,
        filter: str | None = None,
    ) -> list[list[Neighbour]]:
        """The `limit` nearest rows to each of `vectors`, most similar first, in one request."""
        if not vectors:
            return []

        def search(client: Any) -> list[list[Neighbour]]:
            self._load(client, name)
            hits = client.search(
                name,
                data=[list(map(float, vector)) for vector in vectors],
                limit=limit,
                filter=filter or "",
                output_fields=["id"],
                anns_field="vector",
            )
            return [
                [Neighbour(id=str(hit["id"]), similarity=float(hit["distance"])) for hit in found]
                for found in hits
            ]

        return await self._call(search)

    async def vectors_by_id(self, name: str, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of the rows among `ids` that exist, by id, in one request."""
        if not ids:
            return {}

        def get(client: Any) -> dict[str, list[float]]:
            self._load(client, name)
            rows = client.get(name, ids=list(ids), output_fields=["vector"])
            return {str(row["id"]): list(map(float, row["vector"])) for row in rows}

        return await self._call(get)

    async def count(self, name: str) -> int:
        """The number of rows in collection `name` (0 if it does not exist)."""

        def count(client: Any) -> int:
            if not client.has_collection(name):
                return 0
            result = client.query(name, filter="", output_fields=["count(*)"])
            return int(result[0]["count(*)"])

        return await self._call(count)

    async def ping(self) -> None:
        """Return when Milvus answers; raise `StoreUnavailable` when it does not."""
        await self._call(lambda client: client.list_collections())

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            self._loaded.clear()
            await asyncio.get_running_loop().run_in_executor(self._worker, client.close)
        self._worker.shutdown(wait=False)
