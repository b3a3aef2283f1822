"""The HTTP face of the router: `/graphql` per GraphQL-over-HTTP, GraphiQL, `/healthz`, `/readyz`.

Media types: `application/graphql-response+json` (request errors answer 400) and
`application/json` (always 200 for a well-formed request). GET never runs a mutation (405).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from graphql import OperationType, lexicographic_sort_schema, print_schema
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
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
from graph.edge.batching import BatchSettings
from graph.edge.demand import EdgeOutcome
from graph.edge.http import EdgeRefusal, authenticate_request, check_csrf, with_cors
from graph.edge.trusted import TrustedDocumentGate
from graph.graphiql import ASSETS_DIR, ASSETS_PATH, graphiql_html
from graph.incremental import Incremental, deferred_payloads, incremental_split, without_defer
from graph.incremental.wire import accepts_multipart, multipart_response, sse_payload_response
from graph.input_check import MAX_JSON_DEPTH, InputRefused, check_json
from graph.offload import Serialised
from graph.reload import SupergraphReloader
from graph.rest import Executed, rest_routes
from graph.rest.mapping import load_mapping, unserved
from graph.router import RequestError, Router
from graph.subscriptions.legacy_ws import PROTOCOL as LEGACY_WS
from graph.subscriptions.legacy_ws import LegacyWire, LegacyWsConnection
from graph.subscriptions.multipart import MULTIPART as MULTIPART_SUBSCRIPTION
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


def _payload_stream(
    first: dict[str, Any], rest: AsyncGenerator[dict[str, Any], None]
) -> AsyncGenerator[dict[str, Any], None]:
    async def payloads() -> AsyncGenerator[dict[str, Any], None]:
        try:
            yield first
            async for payload in rest:
                yield payload
        finally:
            await rest.aclose()

    return payloads()


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


async def _params_from_post(
    request: Request, batching: BatchSettings
) -> dict[str, Any] | list[Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise _BadRequest(
            f"POST bodies must be {JSON} (got {content_type or 'no content type'}).", 415
        )
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client left before sending its whole body: nothing to run
        raise _BadRequest("The client disconnected before the request body was read.") from None
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
    if isinstance(body, list):
        refusal = batching.refusal(len(body))
        if refusal is not None:
            raise _BadRequest(refusal)
        return body
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
    batching: BatchSettings | None = None,
    reloader: SupergraphReloader | None = None,
    trusted_documents: TrustedDocumentGate | None = None,
) -> Starlette:
    """A Starlette app serving `router` at `/graphql` (HTTP, SSE and WebSocket), with
    `/healthz` and `/readyz`. Every request is authenticated by `authenticator` (default: only
    anonymous callers); `cors_origins` (default `NEXUS_CORS_ORIGINS`) may call from browsers.
    The REST API at `/api/v1` (docs at `/api/docs`), through the same edge, when `rest` is
    true or, by default, when the schema serves every mapped operation (our four subgraphs).
    `batching` (default `NEXUS_BATCHING`): JSON array bodies, off unless switched on.
    `reloader` watches the supergraph file while the app runs (`nexus router`)."""
    subscription_settings = subscriptions or SubscriptionSettings.from_env()
    batch_settings = batching or BatchSettings.from_env()
    identity = authenticator or AnonymousOnly()
    persisted = persisted_queries or PersistedQueries(InProcessDocuments())
    # Without a store of trusted documents, a restricted key can run nothing.
    trusted_gate = trusted_documents or TrustedDocumentGate(_NoTrustedDocuments())

    async def document_for(caller: Caller, params: dict[str, Any]) -> Any:
        """The document a request runs: a restricted key's organisation's trusted document,
        else the query text or an automatic persisted query (raises PersistedQueryError)."""
        if caller.trusted_documents_only:
            return await trusted_gate.document_for(caller, params)
        return await persisted.resolve(params.get("query"), params.get("extensions"))

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
        accept = request.headers.get("accept", "")
        multipart = accepts_multipart(accept)
        media_type = JSON if event_stream else _media_type(accept)
        if media_type is None and multipart:
            media_type = JSON  # an answer in one part is plain JSON
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
                posted = await _params_from_post(request, batch_settings)
                if isinstance(posted, list):
                    return await run_batch(posted, caller, media_type)
                params = posted
            params["query"] = await document_for(caller, params)
            query, variables, operation_name = _validated(params)
            if request.method == "GET":
                _refuse_get_mutation(router, query, operation_name)
            credentials = credentials_from_headers(request.headers)
            reauthenticate = (lambda: identity.authenticate(credentials)) if credentials else None
            if multipart and _is_subscription(router, query, operation_name):
                return sse_response(
                    router,
                    (query, variables, operation_name),
                    {},
                    subscription_settings,
                    caller,
                    MULTIPART_SUBSCRIPTION,
                    reauthenticate=reauthenticate,
                )
            if event_stream or multipart:
                incremental = await incremental_split(router, query, variables, operation_name)
                if incremental is not None:
                    return await deliver_incrementally(
                        incremental,
                        (query, variables, operation_name),
                        caller,
                        media_type,
                        event_stream,
                    )
            if event_stream:
                return sse_response(
                    router,
                    (query, variables, operation_name),
                    {},
                    subscription_settings,
                    caller,
                    reauthenticate=reauthenticate,
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

    async def run_batch(batch: list[Any], caller: Caller, media_type: str) -> Response:
        """A batch's responses in its order. The operations run one after another, as a client
        sending them in sequence would: a mutation's effect is seen by the operations after it."""
        responses = [await one_of_batch(item, caller) for item in batch]
        return Response(orjson.dumps(responses), media_type=media_type)

    async def one_of_batch(item: Any, caller: Caller) -> dict[str, Any]:
        def refused(message: str, code: str) -> dict[str, Any]:
            return {"errors": [{"message": message, "extensions": {"code": code}}]}

        if not isinstance(item, dict):
            return refused(
                "Each operation of a batch must be a JSON object with a `query` string.",
                "BAD_REQUEST",
            )
        try:
            item["query"] = await document_for(caller, item)
            query, variables, operation_name = _validated(item)
        except _BadRequest as error:
            return refused(error.message, "BAD_REQUEST")
        except PersistedQueryError as error:
            return refused(error.message, error.code)
        try:
            return await router.execute(
                query, variables, operation_name, caller=caller, outcome=EdgeOutcome()
            )
        except Exception:
            log.exception("router failed")
            return refused("Internal server error.", "INTERNAL_SERVER_ERROR")

    async def deliver_incrementally(
        incremental: Incremental,
        request: tuple[str, dict[str, Any] | None, str | None],
        caller: Caller,
        media_type: str,
        sse: bool,
    ) -> Response:
        """A query with active `@defer`: its payloads as multipart parts or SSE events. A
        primary result without data (refused, failed) is one plain response."""
        _, variables, operation_name = request
        outcome = EdgeOutcome()
        payloads = deferred_payloads(
            router, incremental, variables, operation_name, caller=caller, outcome=outcome
        )
        first = await anext(payloads)
        if not first.get("hasNext"):
            await payloads.aclose()
            first.pop("hasNext", None)
            return reply(first, media_type, outcome.status, outcome.headers)
        stream = _payload_stream(first, payloads)
        if sse:
            return sse_payload_response(stream)
        return multipart_response(stream)

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
    # Printed once per supergraph (a hot reload brings a new one).
    printed: list[Any] = [None, ""]

    async def client_schema(_: Request) -> Response:
        schema = router.supergraph.api_schema
        if printed[0] is not schema:
            printed[:] = [schema, print_schema(lexicographic_sort_schema(without_defer(schema)))]
        return Response(printed[1], media_type="text/plain; charset=utf-8")

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
        if reloader is not None:
            reloader.start()
        try:
            yield
        finally:
            if reloader is not None:
                await reloader.stop()
            await router.close()
            await persisted.documents.close()
            await trusted_gate.close()

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


def _is_subscription(router: Router, query: str, operation_name: str | None) -> bool:
    try:
        _, operation = router.prepare(query, operation_name)
    except RequestError:
        return False  # execute() answers the parse or validation error
    return operation.operation is OperationType.SUBSCRIPTION


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
