"""GraphQL over Server-Sent Events, "distinct connections" mode (one operation per request).

Spec: https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md. The response is
`text/event-stream`: one `next` event per result, then `complete`; a comment line (`:`) every
keep-alive interval. A client that does not read fast enough has its stream ended after its
queue fills (the same policy as the WebSocket protocols), and closing the request stops the
operation. Like a WebSocket connection, a stream opened with credentials re-checks them every
`reauthenticate_seconds`: once the key is revoked or the token expired, the stream ends with an
UNAUTHENTICATED error event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse

from graph.edge.authn import AuthenticationFailed
from graph.router import Router
from graph.subscriptions.outbox import Outbox
from graph.subscriptions.session import ClientSession, SubscriptionSettings, Wire
from graph.subscriptions.streams import Errors
from nexus.auth.caller import Caller
from nexus.shutdown import draining

EVENT_STREAM = "text/event-stream"
OPERATION = "sse"
_END = "event: complete\ndata:\n\n"
UNAUTHENTICATED = "UNAUTHENTICATED"


class SseWire:
    def next(self, id: str, payload: str) -> str:
        return f"event: next\ndata: {payload}\n\n"

    def error(self, id: str, errors: Errors) -> list[str]:
        return [self.next(id, json.dumps({"errors": errors})), self.complete(id)]

    def complete(self, id: str) -> str:
        return _END


@dataclass(frozen=True, slots=True)
class Framing:
    """How a one-operation HTTP stream spells its messages, keep-alives and end."""

    wire: Wire
    keepalive: str
    end: str
    media_type: str


SSE = Framing(SseWire(), ":\n\n", _END, EVENT_STREAM)


def sse_response(
    router: Router,
    request: tuple[str, dict[str, Any] | None, str | None],
    connection_params: Mapping[str, Any],
    settings: SubscriptionSettings,
    caller: Caller,
    framing: Framing = SSE,
    *,
    reauthenticate: Callable[[], Awaitable[Caller]] | None = None,
) -> StreamingResponse:
    """The event stream of `request`, run as `caller` (authenticated from the request);
    `framing` picks the protocol (SSE, or multipart for Apollo's subscriptions);
    `reauthenticate` checks the request's credentials again (None: anonymous, nothing to
    check)."""
    handoff: asyncio.Queue[str | None] = asyncio.Queue(1)

    async def overflowed() -> None:
        await outbox.close()
        await handoff.put(None)

    outbox = Outbox(handoff.put, overflowed, limit=settings.client_queue_limit)
    session = ClientSession(router, framing.wire, outbox)
    session.connection_params = dict(connection_params)
    session.caller = caller
    session.documents_checked = True  # the gateway checked this request's document
    query, variables, operation_name = request

    async def revoked() -> str:
        """Waits until the credentials stop working; the message to end the stream with."""
        assert reauthenticate is not None
        while True:
            await asyncio.sleep(settings.reauthenticate_seconds)
            try:
                session.caller = await reauthenticate()
            except AuthenticationFailed as error:
                return f"The credentials are no longer valid: {error}"
            except Exception:  # the identity store is down: keep the stream, try again
                continue

    async def events() -> AsyncIterator[str]:
        outbox.start()
        drain = asyncio.ensure_future(draining.wait())
        checking = reauthenticate is not None and settings.reauthenticate_seconds > 0
        refusal = asyncio.ensure_future(revoked() if checking else asyncio.Event().wait())
        try:
            await session.start(
                OPERATION, {"query": query, "variables": variables, "operationName": operation_name}
            )
            while True:
                getter = asyncio.ensure_future(handoff.get())
                done, _ = await asyncio.wait(
                    (getter, drain, refusal),
                    timeout=settings.keepalive_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if refusal in done:  # revoked or expired: end with the reason, sent nothing more
                    getter.cancel()
                    error = {"message": refusal.result(), "extensions": {"code": UNAUTHENTICATED}}
                    for event in SseWire().error(OPERATION, [error]):
                        yield event
                    return
                if getter not in done:
                    getter.cancel()
                    if drain in done:
                        # The server is shutting down: end the stream without `complete`, which
                        # graphql-sse clients take as a dropped connection and retry.
                        return
                    yield framing.keepalive
                    continue
                message = getter.result()
                if message is None:  # too slow: end the stream
                    return
                yield message
                if message == framing.end:
                    return
        finally:
            drain.cancel()
            refusal.cancel()
            with contextlib.suppress(Exception):
                await session.close()

    return StreamingResponse(
        events(),
        media_type=framing.media_type,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
