"""The router's WebSocket client to remote subgraphs: the caller's connection parameters travel
in `connection_init`, and a subgraph that is down ends the stream with an error naming it."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.types import Info

from graph.subscriptions.remote import WebSocketStreams
from tests.support.live import LiveServer
from tests.support.processes import free_port


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def whoami(self, info: Info[dict[str, Any], None]) -> AsyncGenerator[str, None]:
        yield json.dumps(info.context.get("connection_params"))


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


async def test_connection_parameters_reach_the_remote_subgraph() -> None:
    app = Starlette(
        routes=[Route("/graphql", GraphQL(SCHEMA)), WebSocketRoute("/graphql", GraphQL(SCHEMA))]
    )
    async with LiveServer(app) as server:
        streams = WebSocketStreams({"accounts": f"{server.url}/graphql"})
        items = [
            item
            async for item in streams.subscribe(
                "accounts", "subscription { whoami }", None, {"authorization": "Bearer abc"}
            )
        ]
    assert [item.kind for item in items] == ["next"]
    assert json.loads(items[0].response["data"]["whoami"]) == {"authorization": "Bearer abc"}


async def test_a_subgraph_that_is_down_ends_the_stream_with_an_error() -> None:
    streams = WebSocketStreams({"accounts": f"http://127.0.0.1:{free_port()}/graphql"})
    items = [item async for item in streams.subscribe("accounts", "subscription { x }", None, {})]
    assert len(items) == 1 and items[0].kind == "error"
    error = items[0].errors[0]
    assert error["extensions"] == {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "accounts"}
