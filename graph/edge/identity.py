"""The router's side of the identity header: sign each operation's caller for HTTP subgraphs.

A signature is reused for a few seconds per caller (well inside the header's 60 s lifetime), so
signing costs one HMAC per caller per interval rather than one per fetch.
"""

from __future__ import annotations

import time

from nexus.auth.caller import Caller
from nexus.auth.router_identity import MAX_AGE_SECONDS, sign_caller

REUSE_SECONDS = 10.0


class CallerSigner:
    def __init__(self, secret: bytes, *, reuse_seconds: float = REUSE_SECONDS) -> None:
        assert reuse_seconds < MAX_AGE_SECONDS / 2
        self.secret = secret
        self.reuse_seconds = reuse_seconds
        self._signed: dict[Caller, tuple[float, str]] = {}

    def header(self, caller: Caller) -> str:
        now = time.time()
        cached = self._signed.get(caller)
        if cached is not None and now - cached[0] < self.reuse_seconds:
            return cached[1]
        signed = sign_caller(caller, self.secret, now=now)
        if len(self._signed) > 10_000:
            self._signed.clear()
        self._signed[caller] = (now, signed)
        return signed
