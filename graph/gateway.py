"""The HTTP face of the router: `/graphql` per GraphQL-over-HTTP, GraphiQL, `/healthz`, `/readyz`.

Media types: `application/graphql-response+json` (request errors answer 400) and
`application/json` (always 200 for a well-formed request). GET never runs a mutation (405).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from graphql import OperationType, lexicographic_sort_schema, print_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from graph.edge.apq import InProcessDocuments, PersistedQueries, PersistedQueryError
from graph.edge.authn import (
    AnonymousOnly,
    Authenticator,
    credentials_from_headers,
    with_client,
)
from graph.edge.demand import EdgeOutcome
from graph.edge.http import EdgeRefusal, authenticate_request, check_csrf, with_cors
from graph.edge.trusted import TrustedDocumentGate
from graph.graphiql import ASSETS_DIR, ASSETS_PATH, graphiql_html
from graph.input_check import MAX_JSON_DEPTH, InputRefused, check_json
from graph.offload import Serialised
from graph.rest import Executed, rest_routes
from graph.rest.mapping import load_mapping, unserved
from graph.router import RequestError, Router
from graph.subscriptions.legacy_ws import PROTOCOL as LEGACY_WS
from graph.subscriptions.legacy_ws import LegacyWire, LegacyWsConnection
from graph.subscriptions.session import SubscriptionSettings
from graph.subscriptions.sse import EVENT_STREAM, sse_response
from graph.subscriptions.transport_ws import PROTOCOL as TRANSPORT_WS
from graph.subscriptions.transport_ws import TransportWsConnection, TransportWsWire
from graph.subscriptions.websocket import WebSocketConnection
from nexus.auth.caller import Caller
from nexus.metrics import exposition

log = logging.getLogger("graph.gateway")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers or {}


def _media_type(accept: str) -> str | None:
    """The response media type the client accepts, preferring graphql-response+json."""
    if not accept.strip():
        return JSON
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in offered:
        return GRAPHQL_RESPONSE
    if JSON in offered or "application/*" in offered or "*/*" in offered:
        return JSON
    return None


def _wants_html(request: Request) -> bool:
    """A browser navigating here (a `?query=` link opens GraphiQL with that query)."""
    return "text/html" in request.headers.get("accept", "")


def _wants_event_stream(request: Request) -> bool:
    """GraphQL over SSE: the client accepts `text/event-stream` (and prefers it to JSON)."""
    accept = request.headers.get("accept", "")
    return EVENT_STREAM in accept and GRAPHQL_RESPONSE not in accept


def _params_from_get(request: Request) -> dict[str, Any]:
    params = request.query_params
    variables = params.get("variables")
    extensions = params.get("extensions")
    try:
        return {
            "query": params.get("query"),
            "documentId": params.get("documentId"),
            "operationName": params.get("operationName") or None,
            "variables": json.loads(variables) if variables else None,
            "extensions": json.loads(extensions) if extensions else None,
        }
    except (json.JSONDecodeError, RecursionError) as error:
        raise _BadRequest("The `variables` or `extensions` parameter is not valid JSON.") from error


async def _params_from_post(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise _BadRequest(
            f"POST bodies must be {JSON} (got {content_type or 'no content type'}).", 415
        )
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson also refuses valid JSON holding a lone surrogate (`"\ud800"`): the standard
        # parser reads it, so that the input check answers BAD_USER_INPUT naming the value.
        # Nesting past the parser's stack (RecursionError) is bad JSON like any other.
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise _BadRequest("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object with a `query` string.")
    return body


def _validated(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _BadRequest("The request has no `query` string; send the GraphQL document.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise _BadRequest("`variables` must be a JSON object.")
    _refuse_deep_json(variables, params.get("extensions"))
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _BadRequest("`operationName` must be a string.")
    return query, variables, operation_name


def _refuse_deep_json(*values: Any) -> None:
    """Nesting too deep is a malformed request (400); bad strings are answered by the router
    as BAD_USER_INPUT errors."""
    for value in values:
        try:
            check_json(value, "The request's JSON", max_depth=MAX_JSON_DEPTH)
        except InputRefused as error:
            if error.code == "BAD_REQUEST":
                raise _BadRequest(error.message) from error


def create_app(
    router: Router,
    *,
    graphiql: bool = True,
    subscriptions: SubscriptionSettings | None = None,
    authenticator: Authenticator | None = None,
    cors_origins: tuple[str, ...] | None = None,
    persisted_queries: PersistedQueries | None = None,
    rest: bool | None = None,
    trusted_documents: TrustedDocumentGate | None = None,
) -> Starlette:
    """A Starlette app serving `router` at `/graphql` (HTTP, SSE and WebSocket), with
    `/healthz` and `/readyz`. Every request is authenticated by `authenticator` (default: only
    anonymous callers); `cors_origins` (default `NEXUS_CORS_ORIGINS`) may call from browsers.
    The REST API at `/api/v1` (docs at `/api/docs`), through the same edge, when `rest` is
    true or, by default, when the schema serves every mapped operation (our four subgraphs)."""
    subscription_settings = subscriptions or SubscriptionSettings.from_env()
    identity = authenticator or AnonymousOnly()
    persisted = persisted_queries or PersistedQueries(InProcessDocuments())
    # Without a store of trusted documents, a restricted key can run nothing.
    trusted_gate = trusted_documents or TrustedDocumentGate(_NoTrustedDocuments())

    local_assets = graphiql and (ASSETS_DIR / "graphiql.min.js").is_file()
    page = graphiql_html(local_assets)

    def reply(
        payload: dict[str, Any],
        media_type: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if media_type == GRAPHQL_RESPONSE and status == 200 and "data" not in payload:
            status = 400
        if isinstance(payload, Serialised):  # large: encoded off the loop already
            body = payload.body
            return Response(body, status_code=status, media_type=media_type, headers=headers)
        # orjson: a response of thousands of numbers (an option chain, analytics columns)
        # encodes over ten times faster than with Starlette's json.dumps.
        return Response(
            orjson.dumps(payload), status_code=status, media_type=media_type, headers=headers
        )

    async def caller_of(request: Request) -> Caller:
        """Who sent the request (raises EdgeRefusal for refused credentials)."""
        caller = await authenticate_request(identity, request.headers)
        return with_client(caller, request.client.host if request.client else None)

    async def graphql_endpoint(request: Request) -> Response:
        if request.method == "GET" and graphiql and _wants_html(request):
            return HTMLResponse(page)
        event_stream = _wants_event_stream(request)
        media_type = JSON if event_stream else _media_type(request.headers.get("accept", ""))
        if media_type is None:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": f"Accept {GRAPHQL_RESPONSE} or {JSON}.",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                },
                status_code=406,
            )
        try:
            check_csrf(request.method, request.headers)
            caller = await caller_of(request)
        except EdgeRefusal as refusal:
            return reply(refusal.payload, media_type, refusal.status, refusal.headers)
        try:
            if request.method == "GET":
                params = _params_from_get(request)
            else:
                params = await _params_from_post(request)
            if caller.trusted_documents_only:  # a restricted key: its organisation's list only
                params["query"] = await trusted_gate.document_for(caller, params)
            else:
                params["query"] = await persisted.resolve(
                    params.get("query"), params.get("extensions")
                )
            query, variables, operation_name = _validated(params)
            if request.method == "GET":
                _refuse_get_mutation(router, query, operation_name)
            if event_stream:
                credentials = credentials_from_headers(request.headers)
                return sse_response(
                    router,
                    (query, variables, operation_name),
                    {},
                    subscription_settings,
                    caller,
                    (lambda: identity.authenticate(credentials)) if credentials else None,
                )
        except _BadRequest as error:
            return JSONResponse(
                {"errors": [{"message": error.message, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=error.status,
                headers=error.headers,
                media_type=media_type,
            )
        except PersistedQueryError as error:
            return JSONResponse(
                {"errors": [{"message": error.message, "extensions": {"code": error.code}}]},
                status_code=error.status,
                media_type=media_type,
            )
        outcome = EdgeOutcome()
        try:
            result = await router.execute(
                query, variables, operation_name, caller=caller, outcome=outcome
            )
        except Exception:
            log.exception("router failed")
            internal = {
                "message": "Internal server error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
            return reply({"errors": [internal]}, media_type, 500)
        return reply(result, media_type, outcome.status, outcome.headers)

    async def run_for_rest(
        request: Request, query: str, variables: dict[str, Any], operation_name: str
    ) -> Executed:
        # A REST endpoint's persisted operation takes /graphql's path: the same caller, plan,
        # cost, budget (429) and usage metering. No CSRF check: REST GETs are plain reads whose
        # credentials are headers, and Swagger UI's same-origin fetches must pass.
        try:
            caller = await caller_of(request)
        except EdgeRefusal as refusal:
            return Executed(refusal.payload, refusal.status, refusal.headers)
        outcome = EdgeOutcome()
        result = await router.execute(
            query, variables, operation_name, caller=caller, outcome=outcome
        )
        return Executed(result, outcome.status, outcome.headers)

    async def graphql_websocket(websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        connection: type[WebSocketConnection]
        if TRANSPORT_WS in offered:
            connection = TransportWsConnection
        elif LEGACY_WS in offered:
            connection = LegacyWsConnection
        else:
            await websocket.close(4406, "Subprotocol not acceptable")
            return
        wire = TransportWsWire() if connection is TransportWsConnection else LegacyWire()
        await connection(websocket, router, subscription_settings, wire, identity).serve()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    # The client schema, as `schema.graphql` holds it, for codegen tools pointed at the server.
    client_sdl = print_schema(lexicographic_sort_schema(router.supergraph.api_schema))

    async def client_schema(_: Request) -> Response:
        return Response(client_sdl, media_type="text/plain; charset=utf-8")

    async def metrics(_: Request) -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    async def readyz(_: Request) -> Response:
        try:
            subgraphs = await router.ready()
        except Exception:
            log.exception("readiness check failed")
            subgraphs = {}
        ready = bool(subgraphs) and all(subgraphs.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "subgraphs": subgraphs},
            status_code=200 if ready else 503,
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await router.close()
            await persisted.documents.close()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_websocket),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/schema.graphql", client_schema, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    if local_assets:
        routes.append(Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="graphiql"))
    if rest is not False:
        mapping = load_mapping()
        schema = router.supergraph.api_schema
        if rest or not unserved(mapping, schema):
            routes.extend(rest_routes(schema, run_for_rest, mapping))
    return with_cors(Starlette(routes=routes, lifespan=lifespan), cors_origins)


def _refuse_get_mutation(router: Router, query: str, operation_name: str | None) -> None:
    try:
        _, operation = router.prepare(query, operation_name)
    except RequestError:
        return  # execute() answers the parse or validation error
    if operation.operation is not OperationType.QUERY:
        raise _BadRequest(
            f"{operation.operation.value.capitalize()}s cannot run over GET; use POST.",
            405,
            {"allow": "POST"},
        )


class _NoTrustedDocuments:
    async def document(self, organization_id: str, sha256: str) -> str | None:
        return None
