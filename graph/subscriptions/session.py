"""What every client protocol shares: settings, the operations of one client, their listeners.

A protocol (graphql-transport-ws, legacy graphql-ws, SSE) says how messages look (`Wire`); the
session keeps the client's operations by id, starts them through the router and stops them when
the client completes one or goes away, so a client that disconnects frees everything it held.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from graph.limits import checks_enabled
from graph.offload import Serialised
from graph.router import Router, Subscribed
from graph.subscriptions.outbox import DEFAULT_LIMIT, Outbox
from graph.subscriptions.streams import Errors
from nexus.auth.caller import ANONYMOUS, Caller


@dataclass(frozen=True)
class SubscriptionSettings:
    keepalive_seconds: float = 12.0  # server pings (transport-ws), `ka` (legacy), SSE comments
    init_timeout_seconds: float = 10.0  # connection_init must arrive within this
    client_queue_limit: int = DEFAULT_LIMIT  # messages queued for one client before it is dropped
    max_message_bytes: int = 64 * 1024  # largest client message accepted
    reauthenticate_seconds: float = 5.0  # how often open connections re-check their credentials
    max_operations_per_connection: int = 100  # subscribes past it are refused
    max_operations_per_caller: int = 5_000  # across all of one caller's connections

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SubscriptionSettings:
        env = os.environ if environ is None else environ
        default = cls()
        if not checks_enabled(env):  # benchmarks only: what the caps cost, side by side
            default = replace(
                default,
                max_message_bytes=2**62,
                max_operations_per_connection=2**62,
                max_operations_per_caller=2**62,
            )
        return cls(
            keepalive_seconds=float(
                env.get("NEXUS_WS_KEEPALIVE_SECONDS", default.keepalive_seconds)
            ),
            init_timeout_seconds=float(
                env.get("NEXUS_WS_INIT_TIMEOUT_SECONDS", default.init_timeout_seconds)
            ),
            client_queue_limit=int(env.get("NEXUS_CLIENT_QUEUE_LIMIT", default.client_queue_limit)),
            max_message_bytes=int(env.get("NEXUS_WS_MAX_MESSAGE_BYTES", default.max_message_bytes)),
            reauthenticate_seconds=float(
                env.get("NEXUS_REAUTHENTICATE_SECONDS", default.reauthenticate_seconds)
            ),
            max_operations_per_connection=int(
                env.get("NEXUS_WS_MAX_OPERATIONS", default.max_operations_per_connection)
            ),
            max_operations_per_caller=int(
                env.get("NEXUS_WS_MAX_OPERATIONS_PER_CALLER", default.max_operations_per_caller)
            ),
        )


class Wire(Protocol):
    """How one protocol spells an operation's messages."""

    def next(self, id: str, payload: str) -> str: ...

    def error(self, id: str, errors: Errors) -> list[str]:
        """The messages, in order, that end operation ``id`` with ``errors``."""
        ...

    def complete(self, id: str) -> str: ...


class OperationListener:
    def __init__(self, session: ClientSession, id: str) -> None:
        self.session = session
        self.id = id

    def next(self, payload: str) -> None:
        self.session.outbox.put(self.session.wire.next(self.id, payload))

    def error(self, errors: Errors) -> None:
        if self.session.operations.pop(self.id, False) is not False:
            self.session.fail(self.id, errors)

    def complete(self) -> None:
        if self.session.operations.pop(self.id, False) is not False:
            self.session.outbox.put(self.session.wire.complete(self.id))


class PayloadError(ValueError):
    """A subscribe payload without a usable query, variables or operation name."""


def request_of(payload: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    if not isinstance(payload, dict):
        raise PayloadError("The payload must be an object with a `query` string.")
    query = payload.get("query")
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise PayloadError("The payload has no `query` string.")
    if variables is not None and not isinstance(variables, dict):
        raise PayloadError("`variables` must be an object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise PayloadError("`operationName` must be a string.")
    return query, variables, operation_name


class ClientSession:
    """One client's operations, started through the router and sent through its outbox."""

    def __init__(self, router: Router, wire: Wire, outbox: Outbox) -> None:
        self.router = router
        self.wire = wire
        self.outbox = outbox
        self.connection_params: dict[str, Any] = {}
        self.caller: Caller = ANONYMOUS  # authenticated by the connection (or the SSE request)
        # id -> its shared stream, or None while it is starting
        self.operations: dict[str, Subscribed | None] = {}
        # Whether the edge checked the documents against the caller's trusted documents (SSE:
        # the HTTP request was); a WebSocket's messages are not, so a restricted key is refused.
        self.documents_checked = False

    async def start(self, id: str, payload: Any) -> None:
        """Run operation `id`; the caller has checked that `id` is not in use."""
        query, variables, operation_name = request_of(payload)
        if self.caller.trusted_documents_only and not self.documents_checked:
            message = (
                "This API key runs only its organisation's trusted documents, which are "
                "checked on HTTP requests: subscribe over Server-Sent Events (POST /graphql "
                "with `Accept: text/event-stream`)."
            )
            self.fail(
                id, [{"message": message, "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"}}]
            )
            return
        listener = OperationListener(self, id)
        self.operations[id] = None
        result = await self.router.subscribe(
            query, variables, operation_name, self.connection_params, listener, caller=self.caller
        )
        if id not in self.operations:  # completed by the client while it was starting
            if isinstance(result, Subscribed):
                result.cancel()
            return
        if isinstance(result, Subscribed):
            self.operations[id] = result
            return
        del self.operations[id]
        if "data" in result:
            self.outbox.put(self.wire.next(id, _json(result)))
            self.outbox.put(self.wire.complete(id))
        else:
            self.fail(id, result.get("errors") or [])

    def fail(self, id: str, errors: Errors) -> None:
        """Queue the messages that end operation `id` with `errors`."""
        for message in self.wire.error(id, errors):
            self.outbox.put(message)

    def stop(self, id: str) -> None:
        subscribed = self.operations.pop(id, None)
        if subscribed is not None:
            subscribed.cancel()

    async def close(self) -> None:
        for id in list(self.operations):
            self.stop(id)
        await self.outbox.close()


def _json(value: Any) -> str:
    if isinstance(value, Serialised):  # a large response, encoded off the loop already
        return value.body.decode()
    return json.dumps(value, separators=(",", ":"))
