"""RFC 9457 problem details from GraphQL errors: one status per `extensions.code`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://nexus-alpha.dev/problems/"

# The HTTP status a GraphQL error code means to a REST client.
STATUS_BY_CODE: dict[str, int] = {
    "BAD_USER_INPUT": 400,
    "BAD_REQUEST": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "GRAPHQL_PARSE_FAILED": 400,
    "MAX_DEPTH_EXCEEDED": 400,
    "MAX_ALIASES_EXCEEDED": 400,
    "MAX_ROOT_FIELDS_EXCEEDED": 400,
    "MAX_FIELDS_EXCEEDED": 400,
    "MAX_REPRESENTATIONS_EXCEEDED": 400,
    "RESPONSE_TOO_LARGE": 400,  # ask for less: a shorter range, a smaller limit
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "MAX_DOCUMENT_SIZE_EXCEEDED": 413,
    "COST_ESTIMATED_TOO_EXPENSIVE": 413,
    "MAX_LIST_FAN_OUT_EXCEEDED": 413,
    "RATE_LIMITED": 429,
    "TOO_MANY_JOBS": 429,
    "TOO_MANY_SUBSCRIPTIONS": 429,
    "TIMEOUT": 504,
    "STORE_UNAVAILABLE": 503,
    "SUBGRAPH_UNAVAILABLE": 503,
    "SERVICE_UNAVAILABLE": 503,
    "SUBGRAPH_ERROR": 502,
    "RESPONSE_VALIDATION_FAILED": 502,
    "QUERY_PLANNING_FAILED": 500,
    "INTERNAL_SERVER_ERROR": 500,
}
TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
# The order in which several errors pick one status: the caller's own problems first.
_PRECEDENCE = (401, 403, 429, 413, 400, 404, 409, 503, 504)


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    """An `application/problem+json` response; `code` is the GraphQL error code it came from."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (code or str(status)).lower().replace("_", "-"),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [_public(e) for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(errors: Sequence[Mapping[str, Any]]) -> tuple[int, Mapping[str, Any]]:
    """The status of a failed operation and the error that decides it."""
    statuses = [(STATUS_BY_CODE.get(_code(e), 502), e) for e in errors]
    for wanted in _PRECEDENCE:
        for status, error in statuses:
            if status == wanted:
                return status, error
    return statuses[0]


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions") or {}
    return str(extensions.get("code") or "INTERNAL_SERVER_ERROR")


def _public(error: Mapping[str, Any]) -> dict[str, Any]:
    """What a client sees of one GraphQL error: its message, code and path."""
    public: dict[str, Any] = {"message": error.get("message", ""), "code": _code(error)}
    if error.get("path"):
        public["path"] = list(error["path"])
    return public


def problem_from_errors(
    errors: Sequence[Mapping[str, Any]],
    instance: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The problem response for a GraphQL result whose body could not be produced."""
    status, error = status_for(errors)
    extra = dict(headers or {})
    present = {name.lower() for name in extra}
    if status == 429 and "retry-after" not in present:
        extra["Retry-After"] = "60"  # the budget window: a full minute refills any plan
    if status == 401 and "www-authenticate" not in present:
        extra["WWW-Authenticate"] = 'Bearer realm="nexus"'
    return problem(
        status,
        str(error.get("message") or TITLES.get(status, "Error")),
        code=_code(error),
        instance=instance,
        headers=extra,
        errors=errors,
    )
