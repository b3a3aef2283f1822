"""The REST routes: each runs its endpoint's persisted operation through the gateway's runner
(the same router, caller and edge checks as `/graphql`) and shapes the result as plain JSON.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from graphql import GraphQLNonNull, GraphQLSchema, type_from_ast
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from graph.rest.docs import ASSETS_DIR, ASSETS_PATH, DOCS_PATH, docs_html
from graph.rest.mapping import PREFIX, Endpoint, RestMapping, Unsupported, load_mapping
from graph.rest.openapi import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, openapi_document
from graph.rest.params import BadParameter, coerce_parameter, described, parse_date
from graph.rest.problems import problem, problem_from_errors

log = logging.getLogger("graph.rest")

CACHE_CONTROL = {
    # Market data changes at most once per replay tick or trading day; a minute is safe.
    "market": "max-age=60",
    # A caller's own data: revalidate with the ETag, never store in a shared cache.
    "private": "private, no-store",
    "none": "no-store",
}


@dataclass(slots=True)
class Executed:
    """A GraphQL result and what the edge decided for the HTTP response."""

    result: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


# The gateway's way to run an operation for an HTTP request: authenticate the caller as
# /graphql does, run `document` through the router, report the edge's status and headers.
OperationRunner = Callable[[Request, str, dict[str, Any], str], Awaitable[Executed]]


def rest_routes(
    schema: GraphQLSchema, run: OperationRunner, mapping: RestMapping | None = None
) -> list[BaseRoute]:
    """The `/api/v1` endpoints of `mapping` (default: the v1 mapping), `/api/v1/openapi.json`
    and the Swagger UI page at `/api/docs`."""
    mapping = mapping or load_mapping()
    document = openapi_document(mapping, schema)
    openapi_body = json.dumps(document).encode()

    async def openapi(_: Request) -> Response:
        return Response(openapi_body, media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(docs_html(f"{PREFIX}/openapi.json"))

    routes: list[BaseRoute] = [
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        Route(DOCS_PATH, docs, methods=["GET"]),
        Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="swagger-ui"),
    ]
    handlers: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint in mapping.endpoints:
        handlers.setdefault(endpoint.route, {})[endpoint.method] = _handler(endpoint, schema, run)
    for route in mapping.unsupported:
        allowed = sorted(handlers.get(route.route, {}))
        handlers.setdefault(route.route, {})[route.method] = _unsupported(route, allowed)
    for path, by_method in handlers.items():
        routes.append(Route(path, _dispatch(by_method), methods=list(by_method)))
    return routes


def _dispatch(
    by_method: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await by_method[request.method](request)

    return endpoint


def _unsupported(
    route: Unsupported, allowed: list[str]
) -> Callable[[Request], Awaitable[Response]]:
    headers = {"Allow": ", ".join(allowed)} if route.status == 405 else {}

    async def endpoint(request: Request) -> Response:
        return problem(route.status, route.summary, instance=request.url.path, headers=headers)

    return endpoint


def _handler(
    endpoint: Endpoint, schema: GraphQLSchema, run: OperationRunner
) -> Callable[[Request], Awaitable[Response]]:
    definitions = endpoint.operation.definition.variable_definitions or ()
    types = {d.variable.name.value: type_from_ast(schema, d.type) for d in definitions}
    # Variables a request must give (non-null, no default): a missing parameter is a 400
    # naming it, not the router's "Variable '$from' ..." about a variable the caller never saw.
    required = frozenset(
        d.variable.name.value
        for d in definitions
        if isinstance(types[d.variable.name.value], GraphQLNonNull) and d.default_value is None
    )

    async def handle(request: Request) -> Response:
        instance = request.url.path
        try:
            variables = _path_variables(endpoint, request, types)
            variables.update(_query_variables(endpoint, request, types, required))
            page = _page(endpoint, request, variables)
            if endpoint.body is not None:
                variables[endpoint.body] = await _json_body(request)
        except BadParameter as error:
            return problem(400, str(error), code="BAD_USER_INPUT", instance=instance)
        except _UnsupportedMedia as error:
            return problem(415, str(error), instance=instance)
        try:
            operation = endpoint.operation
            executed = await run(request, operation.text, variables, operation.name)
        except Exception:
            log.exception("REST operation failed", extra={"operation": endpoint.operation.name})
            return problem(500, "Internal server error.", instance=instance)
        result = executed.result
        errors = result.get("errors") or []
        body = _at(result.get("data"), endpoint.result)
        if body is None or executed.status >= 400:
            if errors:
                return problem_from_errors(errors, instance, executed.headers)
            return problem(
                404,
                f"Nothing exists at {instance}.",
                code="NOT_FOUND",
                instance=instance,
                headers=executed.headers,
            )
        headers = dict(executed.headers)
        if page is not None:
            body = page.slice(body, request, headers)
        return _reply(request, endpoint, body, headers)

    return handle


def _path_variables(endpoint: Endpoint, request: Request, types: dict[str, Any]) -> dict[str, Any]:
    return {
        variable: coerce_parameter(name, [request.path_params[name]], types[variable])
        for name, variable in endpoint.path_params.items()
    }


def _query_variables(
    endpoint: Endpoint, request: Request, types: dict[str, Any], required: frozenset[str]
) -> dict[str, Any]:
    variables = {}
    for name, variable in endpoint.query_params.items():
        values = request.query_params.getlist(name)
        if values:
            variables[variable] = coerce_parameter(name, values, types[variable])
        elif variable in required:
            raise BadParameter(f"Parameter `{name}` is required{described(types[variable])}.")
    return variables


class _UnsupportedMedia(Exception):
    pass


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _UnsupportedMedia(
            f"Send the body as application/json (got {content_type or 'no content type'})."
        )
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadParameter("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadParameter("The request body must be a JSON object.")
    return body


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of a date-ordered list: at most `limit` items."""

    by: str
    limit: int

    def slice(self, items: list[Any], request: Request, headers: dict[str, str]) -> list[Any]:
        if len(items) <= self.limit:
            return items
        page = items[: self.limit]
        cursor = page[-1][self.by]
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        query.append(("cursor", cursor))
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
        return page


def _page(endpoint: Endpoint, request: Request, variables: dict[str, Any]) -> _Page | None:
    """The page asked for; a cursor (the last date of the previous page) moves the period's
    start to the day after it, so the store reads only what is left."""
    if endpoint.paginate is None:
        return None
    raw_limit = request.query_params.get("limit", str(PAGE_LIMIT_DEFAULT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= PAGE_LIMIT_MAX:
        raise BadParameter(f"Parameter `limit` must be an integer, 1 to {PAGE_LIMIT_MAX}.")
    cursor = request.query_params.get("cursor")
    if cursor is not None:
        after = parse_date("cursor", cursor) + datetime.timedelta(days=1)
        start = variables.get(endpoint.paginate.from_variable)
        if start is None or datetime.date.fromisoformat(start) < after:
            variables[endpoint.paginate.from_variable] = after.isoformat()
    return _Page(endpoint.paginate.by, int(raw_limit))


def _reply(request: Request, endpoint: Endpoint, body: Any, headers: dict[str, str]) -> Response:
    content = orjson.dumps(body)  # as /graphql encodes its responses
    if endpoint.cache == "none":
        headers["Cache-Control"] = CACHE_CONTROL["none"]
        return Response(content, endpoint.status, headers, media_type="application/json")
    etag = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
    headers["ETag"] = etag
    headers["Cache-Control"] = CACHE_CONTROL[endpoint.cache]
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content, endpoint.status, headers, media_type="application/json")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
