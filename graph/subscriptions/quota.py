"""How many operations one WebSocket connection and one caller may hold at once.

10,000 subscribe messages on one socket each started an operation (parse, plan, join a stream)
and stalled every client for seconds. Past the cap a subscribe is refused with the protocol's
error message before any parsing, so the work per refused message is constant.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from typing import Any

from graph.subscriptions.session import ClientSession, PayloadError


class SubscriptionLimit(PayloadError):
    """A subscribe refused because a cap is reached."""

    code = "TOO_MANY_SUBSCRIPTIONS"


def caller_key(connection_params: Mapping[str, Any], client_host: str | None) -> str:
    """Who holds the operations: the credential the caller presented (hashed, never kept), or
    the client address of an anonymous caller."""
    for name in ("authorization", "Authorization", "x-api-key", "apiKey"):
        value = connection_params.get(name)
        if isinstance(value, str) and value:
            return "credential:" + hashlib.sha256(value.encode()).hexdigest()[:24]
    return f"address:{client_host or 'unknown'}"


class CallerOperations:
    """The live sessions of each caller, to count their operations across connections."""

    def __init__(self) -> None:
        self._sessions: dict[str, set[ClientSession]] = {}

    def join(self, caller: str, session: ClientSession) -> None:
        self._sessions.setdefault(caller, set()).add(session)

    def leave(self, caller: str, session: ClientSession) -> None:
        sessions = self._sessions.get(caller)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[caller]

    def count(self, caller: str) -> int:
        return sum(len(s.operations) for s in self._sessions.get(caller, ()))


_registries: weakref.WeakKeyDictionary[Any, CallerOperations] = weakref.WeakKeyDictionary()


def operations_of(router: Any) -> CallerOperations:
    """The registry of one router (one per app)."""
    registry = _registries.get(router)
    if registry is None:
        registry = _registries[router] = CallerOperations()
    return registry


def check_room(
    session: ClientSession,
    caller: str | None,
    registry: CallerOperations,
    per_connection: int,
    per_caller: int,
) -> None:
    if len(session.operations) >= per_connection:
        raise SubscriptionLimit(
            f"This connection holds {per_connection} operations, the most allowed; complete "
            "one before subscribing again."
        )
    if caller is not None and registry.count(caller) >= per_caller:
        raise SubscriptionLimit(
            f"You hold {per_caller} operations across your connections, the most allowed; "
            "complete some before subscribing again."
        )
