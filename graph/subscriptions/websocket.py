"""What both WebSocket protocols share: the receive loop, the init deadline, keep-alives, the
size limit, the slow-client close and the clean-up when the client goes away."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, ClassVar

from starlette.websockets import WebSocket, WebSocketDisconnect

from graph.edge.authn import AnonymousOnly, AuthenticationFailed, Authenticator, with_client
from graph.edge.authn import credentials_from_params as credentials_of
from graph.router import Router
from graph.subscriptions.outbox import Outbox
from graph.subscriptions.session import ClientSession, PayloadError, SubscriptionSettings, Wire
from nexus.shutdown import RESTART_CLOSE_CODE, draining


class Close(Exception):
    """Close the connection with `code` (after sending what is queued)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocketConnection:
    protocol: ClassVar[str]
    keepalive_message: ClassVar[str]

    def __init__(
        self,
        websocket: WebSocket,
        router: Router,
        settings: SubscriptionSettings,
        wire: Wire,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.websocket = websocket
        self.settings = settings
        self.authenticator = authenticator or AnonymousOnly()
        self.outbox = Outbox(self.send, self._overflowed, limit=settings.client_queue_limit)
        self.session = ClientSession(router, wire, self.outbox)
        self.initialised = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._keepalive: asyncio.Task[None] | None = None
        self._reauthenticate: asyncio.Task[None] | None = None

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def handle(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def invalid(self, reason: str) -> Close:
        """What a malformed message gets."""
        return Close(4400, reason)

    def payload_error(self, id: str, error: PayloadError) -> None:
        raise NotImplementedError

    async def serve(self) -> None:
        await self.websocket.accept(subprotocol=self.protocol)
        self.outbox.start()
        deadline = asyncio.get_running_loop().call_later(
            self.settings.init_timeout_seconds, self._init_timed_out
        )
        drain = asyncio.create_task(self._close_when_draining())
        try:
            while True:
                text = await self.websocket.receive_text()
                if len(text.encode()) > self.settings.max_message_bytes:
                    raise Close(1009, f"Message over {self.settings.max_message_bytes} bytes")
                await self.handle(self._message(text))
        except Close as close:
            await self.outbox.flush()
            await self.close(close.code, close.reason)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away (or we closed the socket from another task)
        finally:
            deadline.cancel()
            drain.cancel()
            if self._keepalive is not None:
                self._keepalive.cancel()
            if self._reauthenticate is not None:
                self._reauthenticate.cancel()
            for task in self._tasks:
                task.cancel()
            await self.session.close()

    def _message(self, text: str) -> dict[str, Any]:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise self.invalid("Invalid message received: a JSON object with a `type`")
        return message

    async def acknowledge(self, params: Any) -> None:
        """Accept `connection_init`: authenticate the credentials it carries once (4403 when
        refused) and keep the rest of its payload as the connection parameters."""
        if params is not None and not isinstance(params, dict):
            raise self.invalid("The connection_init payload must be an object")
        credentials = credentials_of(params or {})
        try:
            caller = await self.authenticator.authenticate(credentials)
        except AuthenticationFailed as error:
            raise Close(4403, f"Forbidden: {error}") from error
        client = self.websocket.client
        self.session.caller = with_client(caller, client.host if client else None)
        self.session.connection_params = {
            name: value
            for name, value in (params or {}).items()
            if name != "headers" and not credentials_of({name: value})
        }
        if credentials and self.settings.reauthenticate_seconds > 0:
            self._reauthenticate = asyncio.create_task(self._keep_authenticated(credentials))
        self.initialised = True
        self.outbox.put('{"type":"connection_ack"}')
        if self._keepalive is None:
            self._keepalive = asyncio.create_task(self._keep_alive())

    def start_operation(self, id: str, payload: Any) -> None:
        self.session.operations[id] = None  # in use from now: a repeated id is refused
        task = asyncio.create_task(self._start(id, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start(self, id: str, payload: Any) -> None:
        try:
            await self.session.start(id, payload)
        except PayloadError as error:
            self.session.operations.pop(id, None)
            self.payload_error(id, error)

    async def _keep_alive(self) -> None:
        self.outbox.put(self.keepalive_message)
        while True:
            await asyncio.sleep(self.settings.keepalive_seconds)
            self.outbox.put(self.keepalive_message)

    async def _keep_authenticated(self, credentials: dict[str, str]) -> None:
        """Re-authenticate every interval, so a revoked key or token (or a changed plan) takes
        effect on open subscriptions within seconds."""
        while True:
            await asyncio.sleep(self.settings.reauthenticate_seconds)
            try:
                self.session.caller = await self.authenticator.authenticate(credentials)
            except AuthenticationFailed:
                await self.close(4403, "Forbidden: the credentials are no longer valid")
                return
            except Exception:  # the identity store is down: keep the connection, try again
                continue

    async def _close_when_draining(self) -> None:
        """At shutdown: send what is queued, then close with 1012 (Service Restart), which
        graphql-ws and subscriptions-transport-ws clients reconnect on."""
        await draining.wait()
        await self.outbox.flush()
        await self.close(RESTART_CLOSE_CODE, "Server restarting")

    def _init_timed_out(self) -> None:
        if not self.initialised:
            asyncio.get_running_loop().create_task(
                self.close(4408, "Connection initialisation timeout")
            )

    async def _overflowed(self) -> None:
        await self.close(1013, f"Slow consumer: over {self.settings.client_queue_limit} queued")

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)
