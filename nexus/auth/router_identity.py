"""The caller's identity as the router hands it to a subgraph over HTTP: a signed, short-lived
header only a holder of the router's secret can produce.

Format of `nexus-caller`: `v1.<payload>.<signature>`, both base64url without padding; the
payload is the caller as compact JSON with `iat` (seconds since the epoch), the signature is
HMAC-SHA256 over `v1.<payload>` with the shared secret (`NEXUS_ROUTER_SECRET`). A subgraph
accepts a header at most `max_age` seconds old (and a few seconds from the future, for clock
skew), so a captured header is useless a minute later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

from nexus.auth.caller import Caller, PlanLimits

HEADER = "nexus-caller"
MAX_AGE_SECONDS = 60.0
CLOCK_SKEW_SECONDS = 5.0
_VERSION = "v1"


class IdentityError(Exception):
    """The identity header is missing, malformed, badly signed or too old."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def caller_claims(caller: Caller) -> dict[str, Any]:
    plan = caller.plan
    return {
        "kind": caller.kind,
        "user_id": caller.user_id,
        "organization_id": caller.organization_id,
        "role": caller.role,
        "scopes": sorted(caller.scopes),
        "plan": {
            "name": plan.name,
            "cost_per_minute": plan.cost_per_minute,
            "max_operation_cost": plan.max_operation_cost,
            "max_subscriptions": plan.max_subscriptions,
            "scopes": sorted(plan.scopes),
        },
        "api_key_id": caller.api_key_id,
        "client_id": caller.client_id,
        "token_id": caller.token_id,
        "address": caller.address,
    }


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    plan = claims["plan"]
    return Caller(
        kind=claims["kind"],
        user_id=claims.get("user_id"),
        organization_id=claims.get("organization_id"),
        role=claims.get("role"),
        scopes=frozenset(claims.get("scopes") or ()),
        plan=PlanLimits(
            name=str(plan["name"]),
            cost_per_minute=int(plan["cost_per_minute"]),
            max_operation_cost=int(plan["max_operation_cost"]),
            max_subscriptions=int(plan["max_subscriptions"]),
            scopes=frozenset(plan.get("scopes") or ()),
        ),
        api_key_id=claims.get("api_key_id"),
        client_id=claims.get("client_id"),
        token_id=claims.get("token_id"),
        address=claims.get("address"),
    )


def sign_caller(caller: Caller, secret: bytes, *, now: float | None = None) -> str:
    claims = caller_claims(caller)
    claims["iat"] = int(time.time() if now is None else now)
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed = f"{_VERSION}.{payload}"
    signature = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(signature)}"


def verify_caller(
    header: str, secret: bytes, *, max_age: float = MAX_AGE_SECONDS, now: float | None = None
) -> Caller:
    """The caller in `header`; raises IdentityError (its message never echoes the header)."""
    parts = header.split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise IdentityError("The router identity header is malformed.")
    signed = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    try:
        signature = _unb64(parts[2])
        if not hmac.compare_digest(signature, expected):
            raise IdentityError("The router identity header has a bad signature.")
        claims = json.loads(_unb64(parts[1]))
        issued = float(claims["iat"])
        current = time.time() if now is None else now
        if current - issued > max_age or issued - current > CLOCK_SKEW_SECONDS:
            raise IdentityError("The router identity header has expired.")
        return caller_from_claims(claims)
    except IdentityError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise IdentityError("The router identity header is malformed.") from error


def router_secret(value: str | None, data_dir: Path | None) -> bytes:
    """`NEXUS_ROUTER_SECRET` when set; else a development secret generated once into the data
    directory (mode 0600), so processes sharing that directory share the secret."""
    if value:
        return value.encode()
    if data_dir is None:
        raise IdentityError("NEXUS_ROUTER_SECRET is not set and there is no data directory.")
    path = data_dir / "router-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="ascii") as file:
                path.chmod(0o600)
                file.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # another process of this deployment wrote it first
    return path.read_text(encoding="ascii").strip().encode()
