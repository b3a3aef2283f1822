"""Who is calling: a request's credentials turned into a `Caller`, once, at the edge.

`Authorization: Bearer <JWT>` or `Bearer nxa_...`, or `X-API-Key: nxa_...`; nothing sent is the
anonymous caller; anything sent that does not check out raises `AuthenticationError` (401).

JWTs are verified locally against the key set; a verified token's caller is remembered for
`cache_seconds` (never past its `exp`), so a client sending the same token on every request pays
for one RSA verification per interval. API keys are looked up in the platform store through a
`CredentialStore`, which the platform subgraph implements (this runtime layer never imports a
subgraph); lookups are cached for `cache_seconds` too, so a revoked key stops working within that
many seconds while a busy key costs one lookup per interval, not one per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from nexus.auth.caller import ANONYMOUS, ANONYMOUS_PLAN, Caller, CallerKind, PlanLimits
from nexus.auth.errors import AuthenticationError
from nexus.auth.keys import TokenIssuer
from nexus.auth.secrets import digest, is_api_key

CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000


class CredentialStore(Protocol):
    """What the authenticator needs from the platform store."""

    async def caller_for_api_key(self, key_digest: str) -> Caller | None:
        """The caller of the live (unrevoked, unexpired) key with this digest, else None."""
        ...

    async def plans(self) -> Mapping[str, PlanLimits]:
        """Every plan by name."""
        ...


class Authenticator:
    def __init__(
        self,
        issuer: TokenIssuer,
        credentials: CredentialStore,
        *,
        cache_seconds: float = CACHE_SECONDS,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self.issuer = issuer
        self._credentials = credentials
        self._cache_seconds = cache_seconds
        self._cache_entries = cache_entries
        self._keys: OrderedDict[str, tuple[float, Caller | None]] = OrderedDict()
        self._tokens: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._plans: tuple[float, Mapping[str, PlanLimits]] = (0.0, {})

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller the request's headers identify. Header names are matched case-blind."""
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization")
        api_key = lowered.get("x-api-key")
        if authorization is None and api_key is None:
            return ANONYMOUS
        if authorization is not None:
            scheme, _, credential = authorization.strip().partition(" ")
            credential = credential.strip()
            if scheme.lower() != "bearer" or not credential or " " in credential:
                raise AuthenticationError(
                    "Send `Authorization: Bearer <token or API key>` or `X-API-Key: <key>`."
                )
        else:
            credential = (api_key or "").strip()
            if not is_api_key(credential):
                raise AuthenticationError("The API key is not valid; create a new one.")
        return await self.authenticate_credential(credential)

    async def authenticate_credential(self, credential: str) -> Caller:
        """The caller of one bearer credential: an `nxa_` API key or a JWT access token."""
        if is_api_key(credential):
            return await self._api_key(credential)
        return await self._token(credential)

    async def _token(self, token: str) -> Caller:
        cached = self._tokens.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        claims = self.issuer.verify(token)
        caller = await self._token_caller(claims)
        # Remembered until the token expires or the cache interval ends, whichever is first.
        expires = min(float(claims["exp"]), time.time() + self._cache_seconds)
        self._remember(self._tokens, token, (expires, caller))
        return caller

    async def _token_caller(self, claims: Mapping[str, Any]) -> Caller:
        plan_name = claims.get("plan", ANONYMOUS_PLAN.name)
        kind: CallerKind = "client" if "client_id" in claims else "user"
        return Caller(
            kind=kind,
            user_id=claims["sub"] if kind == "user" else None,
            organization_id=_text(claims.get("org")),
            role=_text(claims.get("role")),
            scopes=frozenset(claims.get("scope", "").split()),
            plan=await self.plan(plan_name if isinstance(plan_name, str) else ""),
            client_id=_text(claims.get("client_id")),
            token_id=_text(claims.get("jti")),
        )

    async def _api_key(self, key: str) -> Caller:
        key_digest = digest(key)
        now = time.monotonic()
        cached = self._keys.get(key_digest)
        if cached is not None and cached[0] > now:
            caller = cached[1]
        else:
            caller = await self._credentials.caller_for_api_key(key_digest)
            self._remember(self._keys, key_digest, (now + self._cache_seconds, caller))
        if caller is None:
            raise AuthenticationError("The API key is not valid, revoked or expired.")
        return caller

    async def plan(self, name: str) -> PlanLimits:
        """The plan `name` from the store (cached like keys); the anonymous plan if unknown."""
        expires, plans = self._plans
        if expires <= time.monotonic():
            plans = await self._credentials.plans()
            self._plans = (time.monotonic() + self._cache_seconds, plans)
        return plans.get(name) or plans.get(ANONYMOUS_PLAN.name) or ANONYMOUS_PLAN

    def _remember(self, cache: OrderedDict[str, Any], key: str, entry: Any) -> None:
        cache[key] = entry
        cache.move_to_end(key)
        while len(cache) > self._cache_entries:
            cache.popitem(last=False)

    def forget(self, key_digest: str | None = None) -> None:
        """Drops cached lookups (one key's, or all) so the next request sees the store."""
        if key_digest is None:
            self._keys.clear()
            self._tokens.clear()
        else:
            self._keys.pop(key_digest, None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
