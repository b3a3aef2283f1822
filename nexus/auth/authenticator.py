"""Who is calling: a request's credentials turned into a `Caller`, once, at the edge.

`Authorization: Bearer <JWT>` or `Bearer nxa_...`, or `X-API-Key: nxa_...`; nothing sent is the
anonymous caller; anything sent that does not check out raises `AuthenticationError` (401).

JWTs are verified locally against the key set; a verified token's caller is remembered for
`cache_seconds` (never past its `exp`), so a client sending the same token on every request pays
for one RSA verification per interval. API keys are looked up in the platform store through a
`CredentialStore`, which the platform subgraph implements (this runtime layer never imports a
subgraph).

A verified API key is remembered for `verified_seconds` (minutes, LRU-bounded), so a thousand
keys in rotation cost a store lookup each per interval, not one per request. Revocation stays
immediate because whoever revokes keys (revokeApiKey, removeMember) publishes their ids on the
bus channel `auth.revoked` (`publish_revocation`), to which every process's authenticator
subscribes and evicts them. Events are at most once, so the long interval is trusted only while
the bus is delivering and has not reconnected since the key was looked up; otherwise (and for
unknown or refused keys) the short `cache_seconds` applies. An entry never outlives the key's
`expiresAt`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from nexus.auth.caller import ANONYMOUS, ANONYMOUS_PLAN, Caller, CallerKind, PlanLimits
from nexus.auth.errors import AuthenticationError
from nexus.auth.keys import TokenIssuer
from nexus.auth.secrets import digest, is_api_key
from nexus.stores.bus import Bus
from nexus.stores.follower import BusFollower

log = logging.getLogger("nexus.auth")

CACHE_SECONDS = 5.0  # tokens, plans, and keys while revocations cannot reach us
VERIFIED_SECONDS = 300.0  # a live key while the bus delivers revocations
CACHE_ENTRIES = 10_000
REVOCATIONS = "auth.revoked"  # bus channel: {"type": "ApiKeysRevoked", "v": 1, "api_key_ids"}


async def publish_revocation(bus: Bus | None, api_key_ids: list[str]) -> None:
    """Tells every process's authenticator to forget these keys now. Called after the revoking
    transaction commits; a bus that is down is logged, not raised: the revocation is in the
    store, and authenticators cut off from the bus fall back to the short interval."""
    if bus is None or not api_key_ids:
        return
    event = {"type": "ApiKeysRevoked", "v": 1, "api_key_ids": api_key_ids}
    try:
        await bus.publish(REVOCATIONS, event)
    except Exception as error:
        log.error("could not publish an API key revocation (%s)", type(error).__name__)


class _KeyEntry:
    __slots__ = ("caller", "epoch", "expires", "fallback")

    def __init__(
        self, caller: Caller | None, expires: float, fallback: float, epoch: int | None
    ) -> None:
        self.caller = caller
        self.expires = expires  # monotonic: the end of the long interval (or the short one)
        self.fallback = fallback  # monotonic: the end of the short interval
        self.epoch = epoch  # the follower's epoch when looked up; None: not kept long


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
        bus: Bus | None = None,
        verified_seconds: float = VERIFIED_SECONDS,
    ) -> None:
        self.issuer = issuer
        self._credentials = credentials
        self._cache_seconds = cache_seconds
        self._cache_entries = cache_entries
        self._verified_seconds = verified_seconds
        self._keys: OrderedDict[str, _KeyEntry] = OrderedDict()
        self._key_digests: dict[str, str] = {}  # api key id -> digest of the cached entry
        self._revocations = BusFollower(bus, REVOCATIONS, self._revoked, name="auth-revocations")
        self._tokens: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._plans: tuple[float, Mapping[str, PlanLimits]] = (0.0, {})
        self._anonymous = ANONYMOUS  # with the store's anonymous plan once read
        self._plans_read: asyncio.Future[Mapping[str, PlanLimits]] | None = None

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller the request's headers identify. Header names are matched case-blind."""
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization")
        api_key = lowered.get("x-api-key")
        if authorization is None and api_key is None:
            return await self.anonymous()
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
        self._revocations.start()  # follows revocations from the first key on
        key_digest = digest(key)
        now = time.monotonic()
        cached = self._keys.get(key_digest)
        if cached is not None and self._fresh(cached, now):
            caller = cached.caller
            self._keys.move_to_end(key_digest)  # least recently used goes first
        else:
            # The epoch is None unless revocations reach us and none arrived during the lookup
            # (it may have read the key just before the revoking transaction committed).
            lookup = self._credentials.caller_for_api_key(key_digest)
            caller, epoch = await self._revocations.read(lookup)
            now = time.monotonic()
            fallback = now + self._cache_seconds
            expires = fallback
            if caller is not None and epoch is not None:  # kept long
                expires = now + self._verified_seconds
            if caller is not None and caller.expires_at is not None:
                left = caller.expires_at - time.time()
                expires, fallback = min(expires, now + left), min(fallback, now + left)
            self._remember_key(key_digest, _KeyEntry(caller, expires, fallback, epoch))
        if caller is None:
            raise AuthenticationError("The API key is not valid, revoked or expired.")
        if caller.expires_at is not None and caller.expires_at <= time.time():
            self._keys.pop(key_digest, None)
            raise AuthenticationError("The API key is not valid, revoked or expired.")
        return caller

    def _remember_key(self, key_digest: str, entry: _KeyEntry) -> None:
        self._keys[key_digest] = entry
        self._keys.move_to_end(key_digest)
        if entry.caller is not None and entry.caller.api_key_id is not None:
            self._key_digests[entry.caller.api_key_id] = key_digest
        while len(self._keys) > self._cache_entries:
            _, evicted = self._keys.popitem(last=False)
            if evicted.caller is not None and evicted.caller.api_key_id is not None:
                self._key_digests.pop(evicted.caller.api_key_id, None)

    def _fresh(self, entry: _KeyEntry, now: float) -> bool:
        if entry.epoch is None or self._revocations.trusts(entry.epoch):
            return entry.expires > now
        return entry.fallback > now  # revocations may have been lost: the short interval

    def _revoked(self, event: dict[str, Any]) -> None:
        ids = event.get("api_key_ids")
        if event.get("type") != "ApiKeysRevoked" or not isinstance(ids, list):
            raise ValueError("a malformed revocation event")
        for key_id in ids:
            key_digest = self._key_digests.pop(str(key_id), None)
            if key_digest is not None:
                self._keys.pop(key_digest, None)

    async def ready(self) -> None:
        """Until revocations are being received (tests; the edge need not wait)."""
        await self._revocations.ready()

    async def close(self) -> None:
        await self._revocations.close()

    async def plan(self, name: str) -> PlanLimits:
        """The plan `name` from the store (cached like keys); the anonymous plan if unknown.
        One read at a time: the requests that find the cache expired together wait for the
        same read instead of each reading the plans table."""
        expires, plans = self._plans
        if expires <= time.monotonic():
            reading = self._plans_read
            if (
                reading is None
                or reading.done()
                or reading.get_loop() is not asyncio.get_running_loop()
            ):
                self._plans_read = reading = asyncio.ensure_future(self._read_plans())
            plans = await asyncio.shield(reading)  # a cancelled caller stops no one
        return plans.get(name) or plans.get(ANONYMOUS_PLAN.name) or ANONYMOUS_PLAN

    async def _read_plans(self) -> Mapping[str, PlanLimits]:
        plans = await self._credentials.plans()
        self._plans = (time.monotonic() + self._cache_seconds, plans)
        return plans

    async def anonymous(self) -> Caller:
        """The caller without credentials, on the store's `anonymous` plan (cached like every
        plan). Public market data must not depend on the platform store: when it cannot be read,
        the last plan read (at first the built-in one) stays, and the store is asked again after
        the cache interval, not on every request."""
        try:
            plan = await self.plan(ANONYMOUS_PLAN.name)
        except Exception as error:
            log.warning("plans unavailable (%s); anonymous plan unchanged", type(error).__name__)
            self._plans = (time.monotonic() + self._cache_seconds, self._plans[1])
            return self._anonymous
        if plan != self._anonymous.plan:
            self._anonymous = (
                ANONYMOUS if plan == ANONYMOUS_PLAN else dataclasses.replace(ANONYMOUS, plan=plan)
            )
        return self._anonymous

    def _remember(self, cache: OrderedDict[str, Any], key: str, entry: Any) -> None:
        cache[key] = entry
        cache.move_to_end(key)
        while len(cache) > self._cache_entries:
            cache.popitem(last=False)

    def forget(self, key_digest: str | None = None) -> None:
        """Drops cached lookups (one key's, or all) so the next request sees the store."""
        if key_digest is None:
            self._keys.clear()
            self._key_digests.clear()
            self._tokens.clear()
        else:
            self._keys.pop(key_digest, None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
