"""The `graphql-transport-ws` protocol (the graphql-ws library's) at the router's edge.

Spec: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md. Close codes used:
4400 bad message, 4401 subscribe before `connection_ack`, 4408 no `connection_init` in time,
4409 an operation id already in use, 4429 a second `connection_init`, 1009 a message over the
size limit, 1013 a client too slow to keep up (its queue overflowed). The server pings every
keep-alive interval.
"""

from __future__ import annotations

import json
from typing import Any

from graph.subscriptions.session import PayloadError
from graph.subscriptions.streams import Errors
from graph.subscriptions.websocket import Close, WebSocketConnection

PROTOCOL = "graphql-transport-ws"


class TransportWsWire:
    def next(self, id: str, payload: str) -> str:
        return f'{{"id":{json.dumps(id)},"type":"next","payload":{payload}}}'

    def error(self, id: str, errors: Errors) -> list[str]:
        return [json.dumps({"id": id, "type": "error", "payload": errors})]

    def complete(self, id: str) -> str:
        return json.dumps({"id": id, "type": "complete"})


class TransportWsConnection(WebSocketConnection):
    protocol = PROTOCOL
    keepalive_message = '{"type":"ping"}'

    async def handle(self, message: dict[str, Any]) -> None:
        match message["type"]:
            case "connection_init":
                if self.initialised:
                    raise Close(4429, "Too many initialisation requests")
                await self.acknowledge(message.get("payload"))
            case "ping":
                self.outbox.put('{"type":"pong"}')
            case "pong":
                pass
            case "subscribe":
                if not self.initialised:
                    raise Close(4401, "Unauthorized")
                id = message.get("id")
                if not isinstance(id, str) or not id:
                    raise Close(4400, "A subscribe message needs a string `id`")
                if id in self.session.operations:
                    raise Close(4409, f"Subscriber for {id} already exists")
                self.start_operation(id, message.get("payload"))
            case "complete":
                id = message.get("id")
                if isinstance(id, str):
                    self.session.stop(id)
            case other:
                raise Close(4400, f"Unknown message type {other!r}")

    def payload_error(self, id: str, error: PayloadError) -> None:
        self.session.fail(id, [{"message": str(error), "extensions": {"code": "BAD_REQUEST"}}])
