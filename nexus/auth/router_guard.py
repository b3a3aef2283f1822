"""A subgraph endpoint's guard: it serves only calls the router signed.

Subgraph endpoints are internal: the router authenticates callers, applies @authenticated,
@requiresScopes and the caller's plan, then calls a subgraph with the caller in the signed
`nexus-caller` header (see `router_identity`). A call without a valid header is refused with
401 (HTTP) or closed with 4401 (WebSocket), unless the endpoint is configured public
(`NEXUS_SUBGRAPHS_PUBLIC=on`), where an unsigned call runs as the anonymous caller. The verified
caller is left in `scope["state"]["caller"]` for the context factory.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from nexus.auth.caller import ANONYMOUS, Caller
from nexus.auth.router_identity import HEADER, IdentityError, router_secret, verify_caller

log = logging.getLogger("nexus.auth")

_HEADER = HEADER.encode()


@dataclass(frozen=True, slots=True)
class GuardSettings:
    secret: bytes
    public: bool = False  # serve unsigned calls as the anonymous caller

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> GuardSettings:
        """`NEXUS_ROUTER_SECRET` (else a secret generated into the data directory) and
        `NEXUS_SUBGRAPHS_PUBLIC` (`on`/`off`, default off)."""
        env = os.environ if environ is None else environ
        public = env.get("NEXUS_SUBGRAPHS_PUBLIC", "off").strip().lower()
        if public not in ("on", "off"):
            from nexus.config import ConfigError

            raise ConfigError(f"NEXUS_SUBGRAPHS_PUBLIC must be `on` or `off`, not {public!r}")
        return cls(router_secret(env.get("NEXUS_ROUTER_SECRET"), data_dir), public == "on")


def scope_caller(scope: Scope) -> Caller:
    """The caller the guard verified for this request (anonymous when unguarded)."""
    state = scope.get("state") or {}
    caller = state.get("caller")
    return caller if isinstance(caller, Caller) else ANONYMOUS


class RouterGuard:
    def __init__(self, app: ASGIApp, settings: GuardSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        page = scope.get("method") == "GET" and b"text/html" in headers.get(b"accept", b"")
        if scope["type"] == "http" and page:
            # The GraphiQL page itself (it runs nothing); its queries are POSTs, guarded.
            scope.setdefault("state", {})["caller"] = ANONYMOUS
            await self.app(scope, receive, send)
            return
        header = headers.get(_HEADER)
        caller: Caller | None = ANONYMOUS if self.settings.public else None
        reason = "This endpoint serves only the router: the call carries no router identity."
        if header is not None:
            try:
                caller = verify_caller(header.decode("latin-1"), self.settings.secret)
            except IdentityError as error:
                caller, reason = None, str(error)
        if caller is None:
            log.warning("refused a subgraph call", extra={"reason": reason})
            await _refuse(scope, receive, send, reason)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 4401, "reason": "Unauthorized"})
        return
    body = json.dumps(
        {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
