"""The Authenticator the edge calls: every bad credential of the issue raises the one
AuthenticationError (a 401 with UNAUTHENTICATED at the router), and good ones become callers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from nexus.auth import ANONYMOUS
from nexus.auth.authenticator import Authenticator
from nexus.auth.config import AuthSettings
from nexus.auth.errors import AuthenticationError
from nexus.auth.keys import KeySet, TokenIssuer, generate_key, rotate_development_key
from nexus.stores import Stores
from subgraphs.platform.credentials import Credentials
from subgraphs.platform.services import services_for
from tests.platform.conftest import GraphQL, sign_up

CREATE_KEY = """
mutation($scopes: [String!]!, $expiresAt: DateTime) {
  createApiKey(name: "partner", scopes: $scopes, expiresAt: $expiresAt) {
    secret apiKey { id prefix scopes lastUsedAt }
  }
}
"""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


@pytest.fixture
def issuer(stores: Stores) -> TokenIssuer:
    return services_for(stores.settings).issuer


def token(issuer: TokenIssuer, **overrides: Any) -> str:
    text, _ = issuer.issue(
        subject="00000000-0000-4000-8000-000000000001",
        organization_id="00000000-0000-4000-8000-000000000002",
        scopes=["market:read"],
        **overrides,
    )
    return text


def hs256_with_public_key(issuer: TokenIssuer, claims: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HMAC keyed with our (public) PEM."""
    header = {"alg": "HS256", "kid": str(issuer.keys.current.kid), "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    secret = issuer.keys.current.as_pem(private=False)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def unsigned(issuer: TokenIssuer, claims: dict[str, Any]) -> str:
    header = {"alg": "none", "kid": str(issuer.keys.current.kid), "typ": "JWT"}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


async def test_a_good_token_is_a_user_caller(
    authenticator: Authenticator, issuer: TokenIssuer
) -> None:
    caller = await authenticator.authenticate(
        {"Authorization": f"Bearer {token(issuer, extra={'role': 'MEMBER', 'plan': 'pro'})}"}
    )

    assert caller.kind == "user"
    assert caller.user_id == "00000000-0000-4000-8000-000000000001"
    assert caller.organization_id == "00000000-0000-4000-8000-000000000002"
    assert caller.scopes == frozenset({"market:read"})
    assert (caller.role, caller.plan.name, caller.plan.cost_per_minute) == (
        "MEMBER",
        "pro",
        100_000,
    )
    header, claims, _ = segments(token(issuer))
    assert header["alg"] == "RS256" and header["kid"] == issuer.keys.current.kid
    assert set(claims) >= {"iss", "aud", "exp", "nbf", "iat", "sub", "org", "scope", "jti"}


async def test_no_credentials_is_the_anonymous_caller(authenticator: Authenticator) -> None:
    assert await authenticator.authenticate({}) is ANONYMOUS
    assert await authenticator.authenticate({"Accept": "application/json"}) is ANONYMOUS


async def test_anonymous_callers_get_the_stores_anonymous_plan(stores: Stores) -> None:
    """The anonymous plan is a row like the others: an operator's change reaches anonymous
    callers within the plan cache's interval; with the plans unreadable, anonymous callers keep
    the plan last read (public market data does not go down with the platform store)."""
    authenticator = Authenticator(
        services_for(stores.settings).issuer,
        Credentials(stores.require_platform()),
        cache_seconds=0.05,
    )
    platform = stores.require_platform()

    async def execute(statement: str) -> None:
        async with platform.sessions.begin() as session:
            await session.execute(text(statement))

    await execute("UPDATE plans SET cost_per_minute = 5000 WHERE name = 'anonymous'")
    caller = await authenticator.authenticate({})
    assert not caller.authenticated
    assert (caller.plan.name, caller.plan.cost_per_minute) == ("anonymous", 5_000)
    assert await authenticator.authenticate({}) is caller  # one caller per plan, not per request

    await execute("ALTER TABLE plans RENAME TO plans_gone")
    try:
        await asyncio.sleep(0.06)
        caller = await authenticator.authenticate({})
        assert caller.plan.cost_per_minute == 5_000
    finally:
        await execute("ALTER TABLE plans_gone RENAME TO plans")
    await execute("UPDATE plans SET cost_per_minute = 1000 WHERE name = 'anonymous'")
    await asyncio.sleep(0.06)
    assert await authenticator.authenticate({}) is ANONYMOUS  # the built-in plan's values again


async def test_requests_that_find_the_plans_expired_together_read_them_once(
    stores: Stores, authenticator: Authenticator
) -> None:
    platform = stores.require_platform()
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM plans" in statement:
            reads.append(statement)

    event.listen(platform.engine.sync_engine, "before_cursor_execute", count)
    try:
        callers = await asyncio.gather(*(authenticator.authenticate({}) for _ in range(20)))
        again = await authenticator.authenticate({})
    finally:
        event.remove(platform.engine.sync_engine, "before_cursor_execute", count)
    assert len(reads) == 1
    assert {caller.plan.name for caller in [*callers, again]} == {"anonymous"}


BAD_TOKENS = {
    "alg none": lambda issuer: unsigned(issuer, segments(token(issuer))[1]),
    "HS256 with the public key": lambda issuer: hs256_with_public_key(
        issuer, segments(token(issuer))[1]
    ),
    "expired": lambda issuer: token(issuer, now=time.time() - 3600, lifetime=600),
    "not yet valid": lambda issuer: issuer.keys.sign(
        {**segments(token(issuer))[1], "nbf": int(time.time()) + 3600}
    ),
    "issued in the future": lambda issuer: issuer.keys.sign(
        {**segments(token(issuer))[1], "iat": int(time.time()) + 3600}
    ),
    "wrong issuer": lambda issuer: token(
        TokenIssuer(issuer.keys, replace(issuer.settings, issuer="https://evil.example"))
    ),
    "wrong audience": lambda issuer: token(
        TokenIssuer(issuer.keys, replace(issuer.settings, audience="someone-else"))
    ),
    "unknown kid": lambda issuer: token(TokenIssuer(KeySet(generate_key()), issuer.settings)),
    "no jti": lambda issuer: issuer.keys.sign(
        {k: v for k, v in segments(token(issuer))[1].items() if k != "jti"}
    ),
    "tampered payload": lambda issuer: tampered(token(issuer)),
    "three dots of nothing": lambda issuer: "..",
    "not base64": lambda issuer: "a.b.c",
    "one word": lambda issuer: "eyJhbGciOiJSUzI1NiJ9",
}


def tampered(text: str) -> str:
    header, _, signature = text.split(".")
    decoded = segments(text)[1]
    decoded["scope"] = "market:read platform:write"
    return f"{header}.{b64(json.dumps(decoded).encode())}.{signature}"


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_bad_token_raises_authentication_error(
    authenticator: Authenticator, issuer: TokenIssuer, make: Any
) -> None:
    bad = make(issuer)

    with pytest.raises(AuthenticationError) as raised:
        await authenticator.authenticate({"Authorization": f"Bearer {bad}"})

    error = raised.value
    assert error.extensions == {"code": "UNAUTHENTICATED"}
    assert bad not in error.message and "Traceback" not in error.message


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic YWRhOnBhc3M="},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer a b"},
        {"Authorization": "Token abc"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "nxa_unknown"},
        {"Authorization": "Bearer nxa_unknown"},
    ],
    ids=lambda headers: "/".join(f"{k}: {v}" for k, v in headers.items()),
)
async def test_malformed_headers_raise_authentication_error(
    authenticator: Authenticator, headers: dict[str, str]
) -> None:
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(headers)


async def test_a_rotated_key_still_verifies_until_its_tokens_expire(
    issuer: TokenIssuer, authenticator: Authenticator
) -> None:
    before = token(issuer)
    rotated = TokenIssuer(issuer.keys.rotated(), issuer.settings)
    after = token(rotated)
    retired_long_ago = TokenIssuer(KeySet(generate_key()), issuer.settings)

    assert rotated.keys.current.kid != issuer.keys.current.kid
    assert rotated.verify(before)["sub"] == rotated.verify(after)["sub"]
    assert {key["kid"] for key in rotated.keys.jwks()["keys"]} == {
        issuer.keys.current.kid,
        rotated.keys.current.kid,
    }
    with pytest.raises(AuthenticationError):
        issuer.verify(after)  # the old set does not know the new key
    with pytest.raises(AuthenticationError):
        rotated.verify(token(retired_long_ago))
    jwks = rotated.keys.jwks()
    assert all(set(key) >= {"kty", "kid", "n", "e"} and "d" not in key for key in jwks["keys"])


def test_the_development_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = AuthSettings.from_env(tmp_path, {})

    first = KeySet.from_settings(settings)
    second = KeySet.from_settings(settings)

    assert first.current.kid == second.current.kid
    key_file = tmp_path / "keys" / "jwt-signing-key.pem"
    assert os.stat(key_file).st_mode & 0o077 == 0


def test_a_configured_key_and_previous_keys_are_used(tmp_path: Path) -> None:
    current, previous = generate_key(), generate_key()
    (tmp_path / "old.pem").write_bytes(previous.as_pem(private=False))
    settings = AuthSettings.from_env(
        tmp_path,
        {
            "NEXUS_JWT_PRIVATE_KEY": current.as_pem(private=True).decode(),
            "NEXUS_JWT_PREVIOUS_KEY_FILES": str(tmp_path / "old.pem"),
            "NEXUS_JWT_ISSUER": "https://api.example",
            "NEXUS_JWT_ACCESS_TOKEN_SECONDS": "300",
        },
    )

    keys = KeySet.from_settings(settings)

    assert keys.current.kid == current.kid
    assert keys.kids == {current.kid, previous.kid}
    assert (settings.issuer, settings.access_token_seconds) == ("https://api.example", 300)
    assert not (tmp_path / "keys").exists()  # no development key when one is configured


async def test_api_keys_authenticate_and_revocation_is_seen_within_the_cache_time(
    graphql: GraphQL, stores: Stores, authenticator: Authenticator, issuer: TokenIssuer
) -> None:
    account = await sign_up(graphql, authenticator)
    created = await graphql(CREATE_KEY, account.caller, scopes=["market:read", "platform:read"])
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    key_id = created.data["createApiKey"]["apiKey"]["id"]
    edge = Authenticator(issuer, Credentials(stores.require_platform()), cache_seconds=0.3)

    by_header = await edge.authenticate({"X-API-Key": secret})
    by_bearer = await edge.authenticate({"Authorization": f"Bearer {secret}"})
    revoked = await graphql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", account.caller, id=key_id
    )
    cached = await edge.authenticate({"X-API-Key": secret})  # within the cache time
    await asyncio.sleep(0.4)

    assert by_header == by_bearer
    assert (by_header.kind, by_header.api_key_id, by_header.organization_id) == (
        "api_key",
        key_id,
        account.organization_id,
    )
    assert by_header.scopes == frozenset({"market:read", "platform:read"})
    assert by_header.plan.name == "free"
    assert revoked.errors is None
    assert cached.api_key_id == key_id
    with pytest.raises(AuthenticationError):
        await edge.authenticate({"X-API-Key": secret})


async def test_an_expired_api_key_is_refused(
    graphql: GraphQL, authenticator: Authenticator, issuer: TokenIssuer, stores: Stores
) -> None:
    account = await sign_up(graphql, authenticator)
    soon = time.time() + 1.0
    created = await graphql(
        CREATE_KEY,
        account.caller,
        scopes=["market:read"],
        expiresAt=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(soon + 1)) + "Z",
    )
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    edge = Authenticator(issuer, Credentials(stores.require_platform()), cache_seconds=0)

    assert (await edge.authenticate({"X-API-Key": secret})).kind == "api_key"
    await asyncio.sleep(max(0.0, soon + 2.1 - time.time()))
    with pytest.raises(AuthenticationError):
        await edge.authenticate({"X-API-Key": secret})


def test_rotating_the_development_key_keeps_old_tokens_valid(tmp_path: Path) -> None:
    settings = AuthSettings.from_env(tmp_path, {})
    before = TokenIssuer(KeySet.from_settings(settings), settings)
    old_token = token(before)

    old_kid, new_kid = rotate_development_key(settings)
    after = TokenIssuer(KeySet.from_settings(settings), settings)  # a restarted process

    assert (old_kid, after.keys.current.kid) == (before.keys.current.kid, new_kid)
    assert after.verify(old_token)["sub"] == after.verify(token(after))["sub"]
    assert {key["kid"] for key in after.keys.jwks()["keys"]} == {old_kid, new_kid}

    # A later rotation, once the first retired key's tokens have all expired, drops it.
    rotate_development_key(settings, now=time.time() + 3600)
    latest = KeySet.from_settings(settings)
    assert old_kid not in latest.kids and new_kid in latest.kids
