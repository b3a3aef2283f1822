"""Automatic persisted queries (Apollo's APQ protocol): a client sends the SHA-256 of its
document instead of the document; the first time, the router answers PERSISTED_QUERY_NOT_FOUND
and the client sends both, which the router checks and keeps (in Redis, shared by every router
process, or in this process for `memory://`).

Request extension: `{"persistedQuery": {"version": 1, "sha256Hash": "<64 hex digits>"}}`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from nexus.stores.redis_client import pooled_client

log = logging.getLogger("graph.edge")

_HASH = re.compile(r"[0-9a-f]{64}")
TTL_SECONDS = 7 * 24 * 3600  # a document unused for a week is forgotten (the client resends it)


class PersistedQueryError(Exception):
    """The persisted-query extension cannot be honoured; `code` says why."""

    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class DocumentStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...

    async def close(self) -> None: ...


class InProcessDocuments:
    """The most recently used `max_documents` documents of this process."""

    def __init__(self, max_documents: int = 10_000) -> None:
        self.max_documents = max_documents
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._documents[sha256] = document
        if len(self._documents) > self.max_documents:
            self._documents.popitem(last=False)

    async def close(self) -> None:
        self._documents.clear()


class RedisDocuments:
    def __init__(self, url: str, *, prefix: str = "nexus:apq:", ttl: int = TTL_SECONDS) -> None:
        self.client: Any = pooled_client(url)
        self.prefix = prefix
        self.ttl = ttl

    async def get(self, sha256: str) -> str | None:
        try:
            raw = await self.client.get(self.prefix + sha256)
        except Exception as error:  # the client resends the document: nothing is lost
            log.warning("persisted-query store unavailable (%s)", type(error).__name__)
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put(self, sha256: str, document: str) -> None:
        try:
            await self.client.set(self.prefix + sha256, document, ex=self.ttl)
        except Exception as error:
            log.warning("persisted-query store unavailable (%s)", type(error).__name__)

    async def close(self) -> None:
        await self.client.aclose()


def open_documents(url: str) -> DocumentStore:
    if url.startswith("memory://"):
        return InProcessDocuments()
    return RedisDocuments(url)


class PersistedQueries:
    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    async def resolve(self, query: Any, extensions: Any) -> Any:
        """The document to run: `query` itself, or the one persisted under the request's hash
        (which a request carrying both registers). Raises PersistedQueryError."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        if persisted is None:
            return query
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise PersistedQueryError(
                "Unsupported persisted query version; send `version: 1`.",
                "PERSISTED_QUERY_NOT_SUPPORTED",
                400,
            )
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not _HASH.fullmatch(sha256):
            raise PersistedQueryError(
                "`sha256Hash` must be 64 lower-case hexadecimal digits.", "BAD_REQUEST", 400
            )
        if isinstance(query, str) and query:
            if hashlib.sha256(query.encode()).hexdigest() != sha256:
                raise PersistedQueryError(
                    "The query's SHA-256 does not match `sha256Hash`.",
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    400,
                )
            await self.documents.put(sha256, query)
            return query
        document = await self.documents.get(sha256)
        if document is None:
            raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        return document
