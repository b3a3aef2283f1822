"""The edge's HTTP concerns: authenticating a request, CORS and CSRF prevention."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from graph.edge.authn import AuthenticationFailed, Authenticator, credentials_from_headers
from nexus.auth.caller import Caller

log = logging.getLogger("graph.edge")

# Headers a browser may send cross-origin (after a preflight) and read back.
ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "x-api-key",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
EXPOSED_HEADERS = ("RateLimit", "RateLimit-Policy", "Retry-After")
# Any of these makes a GET non-simple: a browser must preflight it, so no other site can
# make a visitor's browser send it (CSRF). Apollo's router and server use the same rule.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


class EdgeRefusal(Exception):
    """The request is refused before anything runs."""

    def __init__(
        self, status: int, message: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {
            "errors": [{"message": message, "extensions": {"code": code}}]
        }
        self.headers = headers or {}


async def authenticate_request(authenticator: Authenticator, headers: Mapping[str, str]) -> Caller:
    """The caller of a request (`Authorization: Bearer ...` or `X-API-Key`); raises EdgeRefusal
    (401 UNAUTHENTICATED) for refused credentials."""
    try:
        return await authenticator.authenticate(credentials_from_headers(headers))
    except AuthenticationFailed as error:
        raise EdgeRefusal(
            401, str(error), "UNAUTHENTICATED", {"WWW-Authenticate": 'Bearer realm="nexus"'}
        ) from error
    except Exception as error:
        log.exception("authentication failed to run")
        raise EdgeRefusal(
            503, "Authentication is unavailable; retry shortly.", "SERVICE_UNAVAILABLE"
        ) from error


def check_csrf(method: str, headers: Mapping[str, str]) -> None:
    """Refuse a browser's GET that no preflight guarded (a simple request another site could
    make). Non-browser clients (no `Origin` or `Sec-Fetch-Mode`) are not at risk."""
    if method != "GET" or not ("origin" in headers or "sec-fetch-mode" in headers):
        return
    if headers.get("sec-fetch-mode") == "navigate":
        return  # a person opening a link: GraphiQL, never an API response to another site
    if any(name in headers for name in PREFLIGHT_HEADERS):
        return
    raise EdgeRefusal(
        400,
        "This GET request has been blocked as a potential Cross-Site Request Forgery: send a "
        "non-empty `apollo-require-preflight` (or `x-apollo-operation-name`) header, or POST "
        "with `content-type: application/json`.",
        "BAD_REQUEST",
    )


def cors_origins_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """`NEXUS_CORS_ORIGINS`: comma-separated origins (`https://app.example.com`), or `*`."""
    env = os.environ if environ is None else environ
    raw = env.get("NEXUS_CORS_ORIGINS", "")
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def with_cors(app: Starlette, origins: tuple[str, ...] | None) -> Starlette:
    """`app` answering CORS preflights for `origins` (none: no cross-origin browser access)."""
    origins = cors_origins_from_env() if origins is None else origins
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=list(ALLOWED_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            max_age=600,
        )
    return app
