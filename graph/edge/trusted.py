"""Trusted documents at the edge: a caller whose API key is restricted to its organisation's
trusted documents runs only operations the organisation registered, named by their SHA-256
(`extensions.persistedQuery.sha256Hash`, or `documentId`) or sent as text that hashes to one.
Anything else is refused before it is parsed, with PERSISTED_QUERY_NOT_IN_LIST.

Unrestricted callers are untouched: GraphiQL and automatic persisted queries work as before.
Lookups are cached for up to `cache_seconds` (60). With a bus, the gate follows the platform's
`platform.trusted_documents` events and drops a hash's entry the moment it is registered or
deleted on any process (over Redis: on every router); since events are at most once, entries
learnt before the bus reconnected, or while it is not delivering, are not trusted. Without a
bus, a deleted document stops running within `cache_seconds`.
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
from nexus.events import TRUSTED_DOCUMENTS_CHANNEL, EventError, TrustedDocumentsChanged, decode
from nexus.stores.bus import Bus
from nexus.stores.follower import BusFollower

NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
_HASH = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
MISS_SECONDS = 5.0  # an unknown hash is asked again after this long


class TrustedDocumentStore(Protocol):
    async def document(self, organization_id: str, sha256: str) -> str | None:
        """The organisation's trusted document with this hash, else None."""
        ...


class TrustedDocumentGate:
    def __init__(
        self,
        store: TrustedDocumentStore,
        *,
        cache_seconds: float = 60.0,
        entries: int = 10_000,
        bus: Bus | None = None,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self.entries = entries
        self.bus = bus
        # (organisation, hash) -> (monotonic expiry, document, the follower's epoch when learnt)
        self._cache: OrderedDict[tuple[str, str], tuple[float, str | None, int | None]] = (
            OrderedDict()
        )
        self._follower = BusFollower(
            bus, TRUSTED_DOCUMENTS_CHANNEL, self._changed, name="trusted-documents"
        )

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
        self._follower.start()  # follows changes from the first lookup on
        key = (organization_id, sha256)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now and self._trusted(cached[2]):
            return cached[1]
        document, epoch = await self._follower.read(self.store.document(organization_id, sha256))
        if epoch is None and self.bus is not None:  # never trusted: a change may have passed it
            self._cache.pop(key, None)
            return document
        lifetime = (
            self.cache_seconds if document is not None else min(MISS_SECONDS, self.cache_seconds)
        )
        self._cache[key] = (time.monotonic() + lifetime, document, epoch)
        self._cache.move_to_end(key)
        if len(self._cache) > self.entries:
            self._cache.popitem(last=False)
        return document

    def _trusted(self, epoch: int | None) -> bool:
        """Whether an entry learnt at `epoch` has missed no change event: without a bus, the
        cache interval alone; with one, only if it was delivering then and has not dropped
        since."""
        return self.bus is None or self._follower.trusts(epoch)

    def _changed(self, event: dict[str, Any]) -> None:
        change = decode(event)
        if not isinstance(change, TrustedDocumentsChanged):
            raise EventError(f"{type(change).__name__} is not a trusted document change")
        self._cache.pop((change.organization_id, change.sha256), None)

    @property
    def changes(self) -> int:
        """Change events received so far."""
        return self._follower.events

    async def ready(self) -> None:
        """Until changes are being received (tests; the edge need not wait)."""
        await self._follower.ready()

    async def close(self) -> None:
        await self._follower.close()


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
