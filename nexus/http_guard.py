"""HTTP limits in front of every app: body size, body read time, header read time, and the
uvicorn settings that bound connections.

`BodyLimit` answers 413 from `Content-Length` before reading anything, and again as soon as a
body without one grows past the limit (a 100 MB body used to be read and parsed whole); a body
that has not fully arrived within its time limit (a trickling client) gets 408. Uvicorn has no
header read timeout, so `HeaderTimeoutHttpTools` closes a connection whose request line and
headers have not arrived in time: slow-header connections would otherwise hold
`limit_concurrency` slots forever.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_body_bytes: int = 1024 * 1024
    body_timeout_seconds: float = 10.0
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: float = 5.0
    max_connections: int = 4_000  # uvicorn's limit_concurrency: 503 beyond it
    max_header_bytes: int = 16 * 1024  # h11's max incomplete event size

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpLimits:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            max_body_bytes=int(env.get("NEXUS_MAX_BODY_BYTES", default.max_body_bytes)),
            body_timeout_seconds=float(
                env.get("NEXUS_BODY_TIMEOUT_SECONDS", default.body_timeout_seconds)
            ),
            header_timeout_seconds=float(
                env.get("NEXUS_HEADER_TIMEOUT_SECONDS", default.header_timeout_seconds)
            ),
            keep_alive_seconds=float(
                env.get("NEXUS_KEEP_ALIVE_SECONDS", default.keep_alive_seconds)
            ),
            max_connections=int(env.get("NEXUS_MAX_CONNECTIONS", default.max_connections)),
            max_header_bytes=int(env.get("NEXUS_MAX_HEADER_BYTES", default.max_header_bytes)),
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for `uvicorn.run`."""
        return {
            "timeout_keep_alive": self.keep_alive_seconds,
            "limit_concurrency": self.max_connections,
            "h11_max_incomplete_event_size": self.max_header_bytes,
        }


def _refusal(status: int, message: str) -> tuple[Message, Message]:
    body = (
        b'{"errors":[{"message":"'
        + message.encode()
        + b'","extensions":{"code":"'
        + (b"PAYLOAD_TOO_LARGE" if status == 413 else b"REQUEST_TIMEOUT")
        + b'"}}]}'
    )
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: HttpLimits | None = None) -> None:
        self.app = app
        self.limits = limits or HttpLimits.from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers") or ():
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                for message in _refusal(413, f"The body is over {limit} bytes."):
                    await send(message)
                return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.body_timeout_seconds
        received = 0
        body_done = False
        refused = False
        started = False

        async def refuse(status: int, message: str) -> Message:
            nonlocal refused
            if not started:
                for part in _refusal(status, message):
                    await send(part)
            refused = True
            return {"type": "http.disconnect"}

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done or refused:
                return await receive()
            try:
                # A deadline on this task (asyncio.timeout_at), not wait_for's extra task per
                # message: 6 us instead of 15 us per body message, on every request.
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                return await refuse(
                    408, f"The body did not arrive within {self.limits.body_timeout_seconds:g} s."
                )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    return await refuse(413, f"The body is over {limit} bytes.")
                body_done = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # our refusal was the response
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not refused:
                raise  # the app's own failure; the refusal's ClientDisconnect is expected


def header_timeout_protocol(seconds: float) -> type[Any]:
    """uvicorn's httptools protocol, closing connections whose headers are slower than
    `seconds` (measured from the connection's start or the previous response's end)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderTimeoutHttpTools(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._headers_timed_out)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_timed_out(self) -> None:
            self._header_timer = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

        # After a response, uvicorn's keep-alive timeout closes an idle connection; the next
        # request's headers get their own deadline once its first byte arrives.
        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._header_timer is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutHttpTools
