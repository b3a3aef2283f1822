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

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from graph.edge.apq import PersistedQueryError
from nexus.auth.caller import Caller
from nexus.events import TRUSTED_DOCUMENTS_CHANNEL, EventError, TrustedDocumentsChanged, decode
from nexus.stores.bus import Bus, RedisBus, delivery

log = logging.getLogger("graph.edge.trusted")

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
        # (organisation, hash) -> (monotonic expiry, document, bus epoch if learnt while
        # changes could reach us, else None)
        self._cache: OrderedDict[tuple[str, str], tuple[float, str | None, int | None]] = (
            OrderedDict()
        )
        self._changes = 0  # change events received, so a racing lookup is not cached
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

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
        self._listen()
        key = (organization_id, sha256)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now and self._trusted(cached[2]):
            return cached[1]
        seen = self._changes
        epoch = self._epoch()
        document = await self.store.document(organization_id, sha256)
        lifetime = (
            self.cache_seconds if document is not None else min(MISS_SECONDS, self.cache_seconds)
        )
        if seen != self._changes:  # a change arrived during the lookup: it may predate it
            self._cache.pop(key, None)
            return document
        self._cache[key] = (time.monotonic() + lifetime, document, epoch)
        self._cache.move_to_end(key)
        if len(self._cache) > self.entries:
            self._cache.popitem(last=False)
        return document

    def _epoch(self) -> int | None:
        """The bus's reconnection count while changes reach this gate, else None."""
        if self.bus is None or not self._listening.is_set():
            return None
        delivering, epoch = delivery(self.bus)
        return epoch if delivering else None

    def _trusted(self, epoch: int | None) -> bool:
        """Whether an entry learnt at `epoch` has missed no change event: without a bus, the
        cache interval alone; with one, only if it was delivering then and has not dropped
        since."""
        if self.bus is None:
            return True
        return epoch is not None and epoch == self._epoch()

    def _listen(self) -> None:
        """Follows changes from the first lookup on (it needs the running loop)."""
        if self.bus is not None and (self._listener is None or self._listener.done()):
            self._listener = asyncio.create_task(self._follow(self.bus), name="trusted-documents")

    async def _follow(self, bus: Bus) -> None:
        subscription = await bus.subscribe(TRUSTED_DOCUMENTS_CHANNEL)
        self._listening.set()
        try:
            async for message in subscription:
                try:
                    change = decode(message.event)
                except EventError as error:
                    log.warning("ignored a trusted document event: %s", error)
                    continue
                if isinstance(change, TrustedDocumentsChanged):
                    self._changes += 1
                    self._cache.pop((change.organization_id, change.sha256), None)
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):
                await subscription.close()

    @property
    def changes(self) -> int:
        """Change events received so far."""
        return self._changes

    async def ready(self) -> None:
        """Until changes are being received (tests; the edge need not wait)."""
        if self.bus is None:
            return
        self._listen()
        await self._listening.wait()
        if isinstance(self.bus, RedisBus):
            await self.bus.wait_subscribed()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None


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
