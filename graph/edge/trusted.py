"""Trusted documents at the edge: a caller whose API key is restricted to its organisation's
trusted documents runs only operations the organisation registered, named by their SHA-256
(`extensions.persistedQuery.sha256Hash`, or `documentId`) or sent as text that hashes to one.
Anything else is refused before it is parsed, with PERSISTED_QUERY_NOT_IN_LIST.

Unrestricted callers are untouched: GraphiQL and automatic persisted queries work as before.
Lookups are cached briefly (a registered document is found at once; a deleted one stops
running within a minute).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from graph.edge.apq import PersistedQueryError
from nexus.auth.caller import Caller

NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
_HASH = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
MISS_SECONDS = 5.0  # an unknown hash is asked again after this long


class TrustedDocumentStore(Protocol):
    async def document(self, organization_id: str, sha256: str) -> str | None:
        """The organisation's trusted document with this hash, else None."""
        ...


class TrustedDocumentGate:
    def __init__(
        self, store: TrustedDocumentStore, *, cache_seconds: float = 60.0, entries: int = 10_000
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self.entries = entries
        self._cache: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()

    async def document_for(self, caller: Caller, params: Mapping[str, Any]) -> str:
        """The trusted document the request of a restricted `caller` names; raises
        PersistedQueryError (PERSISTED_QUERY_NOT_IN_LIST) for any other operation."""
        sha256 = _requested_hash(params)
        if sha256 is None:
            raise _refusal("Send the operation's `sha256Hash` or its registered text.")
        document = None
        if caller.organization_id is not None:
            document = await self._lookup(caller.organization_id, sha256)
        if document is None:
            raise _refusal(f"No trusted document of your organisation has the hash {sha256}.")
        return document

    async def _lookup(self, organization_id: str, sha256: str) -> str | None:
        key = (organization_id, sha256)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        document = await self.store.document(organization_id, sha256)
        lifetime = (
            self.cache_seconds if document is not None else min(MISS_SECONDS, self.cache_seconds)
        )
        self._cache[key] = (now + lifetime, document)
        self._cache.move_to_end(key)
        if len(self._cache) > self.entries:
            self._cache.popitem(last=False)
        return document


def _requested_hash(params: Mapping[str, Any]) -> str | None:
    """The hash a request names: `documentId`, the APQ extension's, or its text's."""
    extensions = params.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    named = params.get("documentId")
    if named is None and isinstance(persisted, Mapping):
        named = persisted.get("sha256Hash")
    if isinstance(named, str) and (match := _HASH.fullmatch(named)):
        return match.group(1)
    query = params.get("query")
    if named is None and isinstance(query, str) and query:
        return hashlib.sha256(query.encode()).hexdigest()
    return None


def _refusal(detail: str) -> PersistedQueryError:
    return PersistedQueryError(
        "This API key runs only its organisation's trusted documents (registerTrusted"
        f"Document). {detail}",
        NOT_IN_LIST,
        400,
    )
