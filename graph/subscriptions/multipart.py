"""Subscriptions over multipart HTTP: Apollo's protocol (what Apollo Client uses over HTTP).

Spec: https://www.apollographql.com/docs/graphos/routing/operations/subscriptions/multipart-protocol.
The client sends `Accept: multipart/mixed;subscriptionSpec="1.0"`; the response is
`multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`, one JSON part per event wrapped as
`{"payload": <the GraphQL result>}`, a `{}` part as a heartbeat every keep-alive interval, and
the closing boundary when the subscription ends. Errors that end the operation travel as a
payload's GraphQL errors. Backpressure and shutdown are the SSE stream's
(`graph.subscriptions.sse`).
"""

from __future__ import annotations

import json

from graph.incremental.wire import BOUNDARY, MULTIPART_SUBSCRIPTION
from graph.subscriptions.sse import Framing
from graph.subscriptions.streams import Errors

_PART = f"\r\n--{BOUNDARY}\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
_END = f"\r\n--{BOUNDARY}--\r\n"
HEARTBEAT = _PART + "{}"


class MultipartWire:
    def next(self, id: str, payload: str) -> str:
        return f'{_PART}{{"payload":{payload}}}'

    def error(self, id: str, errors: Errors) -> list[str]:
        body = json.dumps({"payload": {"errors": errors}}, separators=(",", ":"))
        return [_PART + body, _END]

    def complete(self, id: str) -> str:
        return _END


MULTIPART = Framing(MultipartWire(), HEARTBEAT, _END, MULTIPART_SUBSCRIPTION)


def wants_multipart_subscription(accept: str) -> bool:
    return "multipart/mixed" in accept.lower()
