"""Authentication at the edge: what the router needs of an authenticator, and where a request
carries its credentials (HTTP headers, or a WebSocket `connection_init` payload)."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections import OrderedDict
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


class TokenCache:
    """Remembers the caller of each verified access token (a JWT) until it expires, at most
    `max_seconds`, so a client sending the same token verifies its signature once, not per
    request. API keys are not cached here: the authenticator caches their lookups for a few
    seconds, which is how fast a revoked key must stop working; a JWT cannot be revoked before
    it expires, so caching it changes nothing but the cost. Plan changes reach a cached token's
    caller within `max_seconds`."""

    def __init__(
        self, inner: Authenticator, *, max_seconds: float = 60.0, max_entries: int = 10_000
    ) -> None:
        self.inner = inner
        self.max_seconds = max_seconds
        self.max_entries = max_entries
        self._callers: OrderedDict[str, tuple[float, Caller]] = OrderedDict()

    async def authenticate(self, credentials: Mapping[str, str]) -> Caller:
        authorization = credentials.get("authorization")
        token = _bearer_jwt(authorization) if authorization and len(credentials) == 1 else None
        if token is None:
            return await self.inner.authenticate(credentials)
        now = time.time()
        cached = self._callers.get(token)
        if cached is not None and cached[0] > now:
            self._callers.move_to_end(token)
            return cached[1]
        caller = await self.inner.authenticate(credentials)
        expires = min(now + self.max_seconds, _expiry(token) or now)
        if expires > now:
            self._callers[token] = (expires, caller)
            if len(self._callers) > self.max_entries:
                self._callers.popitem(last=False)
        return caller


def _bearer_jwt(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or token.count(".") != 2:  # API keys (nxa_...) have no dots
        return None
    return token


def _expiry(token: str) -> float | None:
    """The `exp` of a token the authenticator has just verified (so its payload is genuine)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None
