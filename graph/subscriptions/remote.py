"""Remote subgraph streams: graphql-transport-ws over WebSocket to the subgraph's URL.

Each upstream subscription opens its own connection (the hub already shares one upstream per
distinct subscription, so there are as many connections as distinct subscriptions, not
clients). The caller's connection parameters go in `connection_init`, so a subgraph can
authenticate the caller itself. A subgraph that cannot be reached, refuses the protocol or
closes the connection mid-stream ends the stream with a SUBGRAPH_UNAVAILABLE error naming it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graph.edge.context import current_caller
from graph.edge.identity import CallerSigner
from graph.subscriptions.streams import StreamItem, stream_error
from nexus.auth.router_identity import HEADER as IDENTITY_HEADER

log = logging.getLogger("graph.subscriptions")

PROTOCOL = "graphql-transport-ws"


def websocket_url(url: str) -> str:
    """`http(s)://host/path` -> `ws(s)://host/path`."""
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    return url


class WebSocketStreams:
    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        connect_timeout: float = 10.0,
        ping_seconds: float = 20.0,
        identity: CallerSigner | None = None,
    ) -> None:
        """With `identity`, each upstream connection carries the subscriber's caller in the
        signed `nexus-caller` handshake header."""
        self.urls = {name: websocket_url(url) for name, url in urls.items()}
        self.identity = identity
        self.connect_timeout = connect_timeout
        self.ping_seconds = ping_seconds

    async def subscribe(
        self,
        service: str,
        query: str,
        variables: dict[str, Any] | None,
        connection_params: Mapping[str, Any],
    ) -> AsyncIterator[StreamItem]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        url = self.urls.get(service)
        if not url:
            yield stream_error(service, f'Subgraph "{service}" has no URL.', "SUBGRAPH_UNAVAILABLE")
            return
        unavailable = stream_error(
            service, f'Subgraph "{service}" is unavailable.', "SUBGRAPH_UNAVAILABLE"
        )
        headers = {}
        if self.identity is not None:
            headers[IDENTITY_HEADER] = self.identity.header(current_caller())
        try:
            async with connect(
                url,
                additional_headers=headers,
                subprotocols=[PROTOCOL],  # type: ignore[list-item]
                open_timeout=self.connect_timeout,
                ping_interval=self.ping_seconds,
                max_size=2**24,
            ) as websocket:
                await websocket.send(
                    json.dumps({"type": "connection_init", "payload": dict(connection_params)})
                )
                async for raw in websocket:
                    message = _message(raw)
                    match message.get("type"):
                        case "connection_ack":
                            payload = {"query": query, "variables": variables or {}}
                            await websocket.send(
                                json.dumps({"id": "1", "type": "subscribe", "payload": payload})
                            )
                        case "ping":
                            await websocket.send('{"type":"pong"}')
                        case "next":
                            result = message.get("payload")
                            if isinstance(result, dict):
                                yield StreamItem("next", result)
                        case "error":
                            errors = message.get("payload")
                            yield StreamItem(
                                "error", errors=errors if isinstance(errors, list) else []
                            )
                            return
                        case "complete":
                            return
        except (OSError, TimeoutError, WebSocketException) as error:
            log.warning("subgraph stream %s ended: %s", service, type(error).__name__)
            yield unavailable
            return
        yield unavailable  # closed without completing

    async def close(self) -> None:
        return None


def _message(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}
