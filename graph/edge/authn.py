"""Authentication at the edge: what the router needs of an authenticator, and where a request
carries its credentials (HTTP headers, or a WebSocket `connection_init` payload)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from nexus.auth.caller import ANONYMOUS, Caller

CREDENTIAL_HEADERS = ("authorization", "x-api-key")


class AuthenticationFailed(Exception):
    """The credentials were refused; the message is safe to send (it never echoes them)."""


class Authenticator(Protocol):
    async def authenticate(self, credentials: Mapping[str, str]) -> Caller:
        """The caller the credentials (`authorization`, `x-api-key`; lower-case names) identify;
        `ANONYMOUS` (or the anonymous plan's caller) for none. Raises AuthenticationFailed."""
        ...


class AnonymousOnly:
    """The authenticator of a router without identity: every caller is anonymous, and a
    request that sends credentials is refused rather than silently served as anonymous."""

    async def authenticate(self, credentials: Mapping[str, str]) -> Caller:
        if credentials:
            raise AuthenticationFailed("This router does not accept credentials.")
        return ANONYMOUS


def credentials_from_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name in CREDENTIAL_HEADERS if (value := headers.get(name)) is not None}


def credentials_from_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The credentials of a `connection_init` payload: `Authorization` / `X-API-Key` at its top
    level or under `headers` (as GraphiQL and Apollo clients send them), any letter case."""
    found: dict[str, str] = {}
    nested = params.get("headers")
    for source in (nested if isinstance(nested, Mapping) else {}, params):
        for name, value in source.items():
            lowered = str(name).lower().replace("_", "-")
            if lowered == "apikey" or lowered == "api-key":
                lowered = "x-api-key"
            if lowered in CREDENTIAL_HEADERS and isinstance(value, str):
                found[lowered] = value
    return found


def with_client(caller: Caller, host: str | None) -> Caller:
    """An anonymous caller marked with its client address: anonymous callers share a plan, not
    a budget (each address has its own)."""
    if caller.authenticated or not host:
        return caller
    return dataclasses.replace(caller, extra={**caller.extra, "client": host})


def budget_key(caller: Caller) -> str:
    """Whose budget and subscription cap an operation counts against."""
    if not caller.authenticated and (client := caller.extra.get("client")):
        return f"anonymous:{client}"
    return caller.rate_key
