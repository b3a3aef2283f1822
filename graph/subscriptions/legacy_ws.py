"""The legacy `graphql-ws` protocol (Apollo's subscriptions-transport-ws) at the router's edge.

Messages: connection_init -> connection_ack (then `ka` keep-alives), start -> data ... complete,
stop, connection_terminate. Request errors arrive as a `data` result with `errors`, then
`complete`, as subscriptions-transport-ws sends them; a bad start (no query, a duplicate id)
gets an `error` message for its id; a malformed message gets `connection_error` and the
connection closes (4400); a start before connection_init closes it (4401), as does a message
over the size limit (1009) or a client too slow to keep up (1013).
"""

from __future__ import annotations

import json
from typing import Any

from graph.subscriptions.session import PayloadError
from graph.subscriptions.streams import Errors
from graph.subscriptions.websocket import Close, WebSocketConnection

PROTOCOL = "graphql-ws"


class LegacyWire:
    def next(self, id: str, payload: str) -> str:
        return f'{{"id":{json.dumps(id)},"type":"data","payload":{payload}}}'

    def error(self, id: str, errors: Errors) -> list[str]:
        data = json.dumps({"id": id, "type": "data", "payload": {"errors": errors}})
        return [data, self.complete(id)]

    def complete(self, id: str) -> str:
        return json.dumps({"id": id, "type": "complete"})


class LegacyWsConnection(WebSocketConnection):
    protocol = PROTOCOL
    keepalive_message = '{"type":"ka"}'

    def invalid(self, reason: str) -> Close:
        self.outbox.put(json.dumps({"type": "connection_error", "payload": {"message": reason}}))
        return Close(4400, reason)

    async def handle(self, message: dict[str, Any]) -> None:
        id = message.get("id")
        match message["type"]:
            case "connection_init":
                await self.acknowledge(message.get("payload"))
            case "start":
                if not self.initialised:
                    raise Close(4401, "Unauthorized: send connection_init first")
                if not isinstance(id, str) or not id:
                    raise self.invalid("A start message needs a string `id`")
                if id in self.session.operations:
                    self._operation_error(id, f"Operation {id} is already running.")
                    return
                self.start_operation(id, message.get("payload"))
            case "stop":
                if isinstance(id, str) and id in self.session.operations:
                    self.session.stop(id)
                    self.outbox.put(self.session.wire.complete(id))
            case "connection_terminate":
                raise Close(1000, "Terminated")
            case other:
                raise self.invalid(f"Unknown message type {other!r}")

    def payload_error(self, id: str, error: PayloadError) -> None:
        self._operation_error(id, str(error))

    def _operation_error(self, id: str, message: str) -> None:
        self.outbox.put(json.dumps({"id": id, "type": "error", "payload": {"message": message}}))
