"""The edge authenticates each request once and runs it as that caller: in-process through the
subgraph context, over HTTP in the signed `nexus-caller` header; subgraph endpoints serve only
router-signed calls; WebSocket connections authenticate their `connection_init` once and close
when the credentials are revoked."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from graph.edge.authn import TokenCache
from graph.edge.identity import CallerSigner
from graph.gateway import create_app
from graph.http_router import http_router
from graph.in_process import compose_schemas, in_process_router
from graph.subscriptions.session import SubscriptionSettings
from nexus.assembly.app import SubgraphGraphQL
from nexus.auth.router_guard import GuardSettings, RouterGuard
from nexus.auth.router_identity import HEADER, sign_caller
from nexus.subgraph import Subgraph
from tests.graph.edge_support import (
    ANALYST,
    HOLDERS_READER,
    SCHEMAS,
    ContextLog,
    FakeAuthenticator,
    authenticator,
)
from tests.support.live import LiveServer, TransportWsClient

WHOAMI = {"query": "{ callerKind whoami { userId organizationId } }"}
SECRET = b"edge-test-secret"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus")


@pytest.fixture
def log() -> ContextLog:
    return ContextLog()


@pytest.fixture
def client(log: ContextLog) -> httpx.AsyncClient:
    router = in_process_router(SCHEMAS, contexts=log.contexts())
    return _client(create_app(router, authenticator=authenticator()))


async def test_an_api_key_or_a_bearer_token_runs_the_operation_as_its_caller(
    client: httpx.AsyncClient, log: ContextLog
) -> None:
    by_key = await client.post("/graphql", json=WHOAMI, headers={"x-api-key": "nxa_analyst"})
    assert by_key.status_code == 200
    assert by_key.json() == {
        "data": {"callerKind": "api_key", "whoami": {"userId": "u-ada", "organizationId": "org-a"}}
    }
    by_token = await client.post(
        "/graphql", json=WHOAMI, headers={"authorization": "Bearer jwt-bob"}
    )
    assert by_token.json()["data"]["whoami"] == {"userId": "u-bob", "organizationId": "org-a"}
    # the subgraphs saw the callers the authenticator made, with the client's address
    assert {replace(caller, address=None) for _, caller in log.built} == {ANALYST, HOLDERS_READER}
    assert {caller.address for _, caller in log.built} == {"127.0.0.1"}


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": "nxa_unknown"},
        {"authorization": "Bearer not-a-token"},
        {"authorization": "Basic YWRhOnNlY3JldA=="},
        {"authorization": "Bearer"},
    ],
)
async def test_refused_credentials_answer_401_and_nothing_runs(
    client: httpx.AsyncClient, log: ContextLog, headers: dict[str, str]
) -> None:
    response = await client.post("/graphql", json=WHOAMI, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "nxa_unknown" not in response.text and "not-a-token" not in response.text
    assert log.built == []  # no subgraph was called


async def test_credentials_are_refused_by_a_router_without_an_authenticator(
    log: ContextLog,
) -> None:
    router = in_process_router(SCHEMAS, contexts=log.contexts())
    async with _client(create_app(router)) as client:
        anonymous = await client.post("/graphql", json={"query": "{ callerKind }"})
        assert anonymous.json() == {"data": {"callerKind": "anonymous"}}
        keyed = await client.post("/graphql", json=WHOAMI, headers={"x-api-key": "nxa_analyst"})
        assert keyed.status_code == 401


def _subgraph_app(public: bool = False) -> Starlette:
    accounts = Subgraph("accounts", SCHEMAS["accounts"], lambda stores, caller: {"caller": caller})
    endpoint = RouterGuard(SubgraphGraphQL(accounts, None), GuardSettings(SECRET, public))  # type: ignore[arg-type]
    return Starlette(routes=[Route("/graphql", endpoint, methods=["GET", "POST"])])


async def test_over_http_the_subgraph_receives_the_caller_the_router_signed() -> None:
    async with LiveServer(_subgraph_app()) as subgraph:
        sdl = compose_schemas(
            {"accounts": SCHEMAS["accounts"]}, {"accounts": subgraph.url + "/graphql"}
        )
        router = http_router(sdl, identity=CallerSigner(SECRET))
        app = create_app(router, authenticator=authenticator())
        async with _client(app) as client:
            response = await client.post(
                "/graphql", json=WHOAMI, headers={"x-api-key": "nxa_analyst"}
            )
            assert response.json()["data"] == {
                "callerKind": "api_key",
                "whoami": {"userId": "u-ada", "organizationId": "org-a"},
            }
            anonymous = await client.post("/graphql", json={"query": "{ callerKind }"})
            assert anonymous.json() == {"data": {"callerKind": "anonymous"}}
        await router.close()
        async with httpx.AsyncClient(base_url=subgraph.url) as direct:
            # Straight to the subgraph: without the router's signature nothing is served.
            unsigned = await direct.post("/graphql", json={"query": "{ callerKind }"})
            assert unsigned.status_code == 401
            assert unsigned.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            wrong_key = {HEADER: sign_caller(HOLDERS_READER, b"another-secret")}
            forged = await direct.post(
                "/graphql", json={"query": "{ callerKind }"}, headers=wrong_key
            )
            assert forged.status_code == 401
            stale = {HEADER: sign_caller(ANALYST, SECRET, now=0)}
            expired = await direct.post("/graphql", json={"query": "{ callerKind }"}, headers=stale)
            assert expired.status_code == 401
            assert "expired" in expired.json()["errors"][0]["message"]


async def test_a_public_subgraph_serves_unsigned_calls_as_anonymous() -> None:
    async with _client(_subgraph_app(public=True)) as direct:
        response = await direct.post("/graphql", json={"query": "{ callerKind }"})
        assert response.json() == {"data": {"callerKind": "anonymous"}}


@pytest.fixture
async def live_router(log: ContextLog) -> Any:
    identity = authenticator()
    router = in_process_router(SCHEMAS, contexts=log.contexts())
    settings = SubscriptionSettings(
        keepalive_seconds=30, init_timeout_seconds=5, reauthenticate_seconds=0.2
    )
    async with LiveServer(
        create_app(router, authenticator=identity, subscriptions=settings)
    ) as server:
        yield server, identity


async def test_connection_init_authenticates_once_and_a_revoked_key_closes_the_connection(
    live_router: tuple[LiveServer, FakeAuthenticator],
) -> None:
    server, identity = live_router
    refused = await TransportWsClient.connect(server.ws_url, init=False)
    await refused.send({"type": "connection_init", "payload": {"x-api-key": "nxa_unknown"}})
    assert (await refused.closed_with())[0] == 4403

    client = await TransportWsClient.connect(
        server.ws_url, headers={"Authorization": "Bearer jwt-bob"}
    )
    await client.subscribe("1", "subscription { alerts }")
    first = await client.receive()
    assert first["payload"]["data"]["alerts"].startswith("u-bob:")
    identity.revoke("jwt-bob")
    code, _ = await client.closed_with(timeout=5)
    assert code == 4403


async def test_a_revoked_keys_sse_stream_ends_with_an_error_event(
    live_router: tuple[LiveServer, FakeAuthenticator],
) -> None:
    """Server-Sent Events re-check their credentials like WebSockets (every 0.2 s here): the
    stream of a revoked credential ends with an UNAUTHENTICATED error, then `complete`."""
    server, identity = live_router
    headers = {"accept": "text/event-stream", "authorization": "Bearer jwt-bob"}
    events: list[str] = []
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream(
            "POST", "/graphql", json={"query": "subscription { alerts }"}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(line.removeprefix("data: "))
                if len(events) == 1:
                    identity.revoke("jwt-bob")
            elif line.startswith("event: complete"):
                break
    first, *_, last = [json.loads(event) for event in events]
    assert first["data"]["alerts"].startswith("u-bob:")
    assert last["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "no longer valid" in last["errors"][0]["message"]


async def test_a_key_restricted_to_trusted_documents_cannot_run_websocket_operations(
    live_router: tuple[LiveServer, FakeAuthenticator],
) -> None:
    """Trusted documents are checked on HTTP requests (SSE included); over a WebSocket a
    restricted key's operations are refused with the same code, never run unchecked."""
    server, identity = live_router
    identity.callers["nxa_kiosk"] = replace(ANALYST, trusted_documents_only=True)
    client = await TransportWsClient.connect(server.ws_url, **{"x-api-key": "nxa_kiosk"})
    await client.subscribe("1", "subscription { alerts }")
    message = await client.receive()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    await client.close()


async def test_anonymous_callers_cannot_open_a_private_channel(
    live_router: tuple[LiveServer, FakeAuthenticator],
) -> None:
    server, _ = live_router
    client = await TransportWsClient.connect(server.ws_url)
    await client.subscribe("1", "subscription { alerts }")
    message = await client.receive()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert message["payload"][0]["path"] == ["alerts"]
    await client.close()


async def test_the_plan_caps_concurrent_subscriptions(
    live_router: tuple[LiveServer, FakeAuthenticator],
) -> None:
    server, _ = live_router
    client = await TransportWsClient.connect(server.ws_url, **{"x-api-key": "nxa_analyst"})
    for id in ("1", "2"):  # the pro plan allows two
        await client.subscribe(id, "subscription { alerts }")
        assert (await client.receive())["type"] == "next"
    await client.subscribe("3", "subscription { alerts }")
    while (message := await client.receive())["id"] != "3":
        pass
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    await client.send({"id": "1", "type": "complete"})
    await asyncio.sleep(0.1)
    await client.subscribe("4", "subscription { alerts }")
    while (message := await client.receive())["id"] != "4":
        pass
    assert message["type"] == "next"
    await client.close()


def _jwt(exp: float) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'u-bob', 'exp': exp})}.c2ln"


async def test_a_verified_token_is_not_verified_again_until_it_expires() -> None:
    fresh, stale = _jwt(time.time() + 600), _jwt(time.time() - 1)
    inner = FakeAuthenticator({fresh: HOLDERS_READER, stale: HOLDERS_READER, "nxa_k": ANALYST})
    cache = TokenCache(inner)
    for _ in range(3):
        assert await cache.authenticate({"authorization": f"Bearer {fresh}"}) == HOLDERS_READER
    assert inner.calls == 1
    for _ in range(2):  # an expired token (or an API key) always goes to the authenticator
        await cache.authenticate({"authorization": f"Bearer {stale}"})
        await cache.authenticate({"authorization": "Bearer nxa_k"})
    assert inner.calls == 5
