"""A real server and real WebSocket clients for the subscription tests.

`LiveServer` runs an ASGI app under uvicorn on a free port of 127.0.0.1 inside the test's event
loop; `TransportWsClient` and `LegacyWsClient` speak the two WebSocket protocols with the
`websockets` library, as any client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from tests.support.processes import free_port


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveServer:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)


class TransportWsClient:
    """graphql-transport-ws, message by message."""

    protocol = "graphql-transport-ws"

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket

    @classmethod
    async def connect(
        cls, url: str, *, receive_buffer: int | None = None, init: bool = True, **params: Any
    ) -> Any:
        sock = None
        if receive_buffer is not None:  # a client that reads slowly: a small kernel buffer
            host, port = url.removeprefix("ws://").split("/")[0].split(":")
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect((host, int(port)))
        websocket = await connect(
            url, subprotocols=[cls.protocol], sock=sock, max_queue=4, ping_interval=None
        )
        client = cls(websocket)
        if init:
            await client.send({"type": "connection_init", "payload": params or None})
            ack = await client.receive()
            assert ack == {"type": "connection_ack"}, ack
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send(json.dumps(message))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message that is not a keep-alive."""
        while True:
            raw = await asyncio.wait_for(self.websocket.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") not in ("ping", "ka"):
                return message

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def closed_with(self, timeout: float = 10.0) -> tuple[int | None, str]:
        """The close code and reason, once the server has closed the connection."""
        try:
            async with asyncio.timeout(timeout):
                async for _ in self.websocket:
                    pass
        except Exception:
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.websocket.wait_closed(), timeout)
        received = self.websocket.protocol.close_rcvd
        return (received.code, received.reason) if received else (None, "")

    async def close(self) -> None:
        await self.websocket.close()


class LegacyWsClient(TransportWsClient):
    protocol = "graphql-ws"

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {"id": id, "type": "start", "payload": {"query": query, "variables": variables}}
        )
