"""Authentication at the edge: what the router needs of an authenticator, and where a request
carries its credentials (HTTP headers, or a WebSocket `connection_init` payload)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from nexus.auth.caller import ANONYMOUS, Caller
from nexus.auth.errors import AuthenticationError

CREDENTIAL_HEADERS = ("authorization", "x-api-key")

# The credentials were refused; the message is safe to send (it never echoes them).
AuthenticationFailed = AuthenticationError


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
    """The caller with its client address (for the sign-in throttle, and because anonymous
    callers share a plan, not a budget: each address has its own)."""
    if not host or caller.address == host:
        return caller
    return dataclasses.replace(caller, address=host)


def budget_key(caller: Caller) -> str:
    """Whose budget and subscription cap an operation counts against."""
    if not caller.authenticated and caller.address:
        return f"anonymous:{caller.address}"
    return caller.rate_key
