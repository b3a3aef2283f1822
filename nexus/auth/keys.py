"""Signing and verifying access tokens: RS256 JWTs with a rotating key set.

The current key signs; the previous keys (configured as retired key files) still verify, so a
token signed before a rotation stays valid until it expires. Each key's `kid` is its RFC 7638
thumbprint, so it is stable across restarts and the same in every process.

Verification is strict: only RS256 is accepted (never `none`, never an HMAC algorithm whose
secret could be the public key), the `kid` must name one of our keys, and `iss`, `aud`, `exp`,
`nbf`, `iat`, `sub` and `jti` must all be present and valid. Every failure raises the one
`AuthenticationError`.

Tokens are made with joserfc, the JOSE library authlib's own `authlib.jose` now delegates to
(authlib 1.7 deprecated `authlib.jose` in its favour; same author, stricter defaults).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeyParameters, RSAKey
from joserfc.jwk import KeySet as JoseKeySet
from joserfc.jwt import JWTClaimsRegistry

from nexus.auth.config import AuthSettings
from nexus.auth.errors import AuthenticationError

log = logging.getLogger("nexus.auth")

ALGORITHM = "RS256"
_KEY_BITS = 2048
DEV_KEY_NAME = "jwt-signing-key.pem"
RETIRED_PREFIX = "retired-"  # development keys rotated out: they verify until their tokens expire


def _with_kid(key: RSAKey) -> RSAKey:
    """`key` again with its thumbprint as `kid`, marked for RS256 signatures."""
    pem = key.as_pem(private=key.is_private)
    parameters: KeyParameters = {"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM}
    return RSAKey.import_key(pem, parameters)


def load_key(pem: str | bytes) -> RSAKey:
    """An RSA key (private or public) from PEM text; anything else is a configuration error."""
    try:
        key = RSAKey.import_key(pem)
    except (ValueError, TypeError, JoseError):
        raise ValueError("the JWT key must be an RSA key in PEM format") from None
    return _with_kid(key)


def generate_key() -> RSAKey:
    return _with_kid(RSAKey.generate_key(_KEY_BITS, private=True))


class KeySet:
    """The signing key and every public key a token may have been signed with."""

    def __init__(self, current: RSAKey, previous: Iterable[RSAKey] = ()) -> None:
        if not current.is_private:
            raise ValueError("the current JWT key must be a private key")
        self.current = current
        public: list[Key] = [current, *previous]
        self._verifying = JoseKeySet(public)
        self.kids = frozenset(str(key.kid) for key in public)

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> KeySet:
        previous_files = list(settings.previous_key_files)
        if settings.private_key_pem is not None:
            current = load_key(settings.private_key_pem)
        else:
            current = development_key(settings.key_dir)
            previous_files += sorted(settings.key_dir.glob(f"{RETIRED_PREFIX}*.pem"))
        previous = [load_key(path.read_bytes()) for path in previous_files]
        return cls(current, previous)

    def rotated(self, new: RSAKey | None = None) -> KeySet:
        """A key set signing with `new` (a fresh key by default) that still verifies ours."""
        keys = [key for key in self._verifying.keys if isinstance(key, RSAKey)]
        return KeySet(new or generate_key(), keys)

    def jwks(self) -> dict[str, Any]:
        """The JWKS document (RFC 7517) of the public keys: what `/.well-known/jwks.json` serves."""
        return {"keys": [key.as_dict(private=False) for key in self._verifying.keys]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        header = {"alg": ALGORITHM, "kid": str(self.current.kid), "typ": "JWT"}
        return jwt.encode(header, dict(claims), self.current, algorithms=[ALGORITHM])

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims once its header and signature check out (claims unchecked)."""
        try:
            decoded = jwt.decode(token, self._verifying, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError, KeyError):
            raise AuthenticationError() from None
        if decoded.header.get("kid") not in self.kids:  # a key set may fall back to a lone key
            raise AuthenticationError()
        return dict(decoded.claims)


class TokenIssuer:
    """Makes and checks the access tokens of one deployment (issuer, audience, lifetime)."""

    def __init__(self, keys: KeySet, settings: AuthSettings) -> None:
        self.keys = keys
        self.settings = settings
        self._claims = JWTClaimsRegistry(
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )

    def issue(
        self,
        *,
        subject: str,
        organization_id: str | None,
        scopes: Iterable[str],
        extra: Mapping[str, Any] | None = None,
        now: float | None = None,
        lifetime: int | None = None,
    ) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        issued = int(time.time() if now is None else now)
        seconds = self.settings.access_token_seconds if lifetime is None else lifetime
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + seconds,
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(sorted(set(scopes))),
            **(extra or {}),
        }
        if organization_id is not None:
            claims["org"] = organization_id
        return self.keys.sign(claims), seconds

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this deployment issued and that is valid now."""
        claims = self.keys.verify(token)
        try:
            self._claims.validate(claims)
        except (JoseError, ValueError, TypeError):
            raise AuthenticationError() from None
        if not isinstance(claims.get("scope", ""), str) or not isinstance(claims["sub"], str):
            raise AuthenticationError()
        return claims


def development_key(key_dir: Path) -> RSAKey:
    """The embedded default's signing key: made on first start, then read from `key_dir`."""
    path = key_dir / DEV_KEY_NAME
    try:
        return load_key(path.read_bytes())
    except FileNotFoundError:
        pass
    key = generate_key()
    key_dir.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so two processes starting together never
    # read half a key; the loser of the race reads the winner's key.
    temporary = key_dir / f".{DEV_KEY_NAME}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.as_pem(private=True))
    try:
        os.link(temporary, path)  # fails if another process got there first
    except FileExistsError:
        key = load_key(path.read_bytes())
    finally:
        temporary.unlink()
    log.warning("generated a development JWT signing key; configure NEXUS_JWT_PRIVATE_KEY_FILE")
    return key


def rotate_development_key(settings: AuthSettings, now: float | None = None) -> tuple[str, str]:
    """Retires the development key and makes a new one; returns (old kid, new kid).

    The retired key keeps verifying (it stays in the JWKS) until every token it signed has
    expired; retired keys older than that are deleted. Running processes load keys at start:
    restart them to sign with the new key.
    """
    if settings.private_key_pem is not None:
        raise ValueError(
            "the signing key comes from NEXUS_JWT_PRIVATE_KEY(_FILE): rotate it by moving it to "
            "NEXUS_JWT_PREVIOUS_KEY_FILES and configuring a new one"
        )
    moment = time.time() if now is None else now
    old = development_key(settings.key_dir)
    lifetime = settings.access_token_seconds + settings.leeway_seconds
    for retired in settings.key_dir.glob(f"{RETIRED_PREFIX}*.pem"):
        if retired.stat().st_mtime < moment - lifetime:
            retired.unlink()
    current = settings.key_dir / DEV_KEY_NAME
    current.rename(settings.key_dir / f"{RETIRED_PREFIX}{int(moment)}-{old.kid}.pem")
    return str(old.kid), str(development_key(settings.key_dir).kid)
