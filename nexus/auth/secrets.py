"""Opaque credentials: API keys and refresh tokens, shown once and stored only as hashes.

Both are 256-bit random secrets, so a plain SHA-256 is enough to store them: unlike a password
there is nothing to guess, and a fast hash keeps the per-request API-key lookup cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

API_KEY_PREFIX = "nxa_"
REFRESH_TOKEN_PREFIX = "nxr_"
OAUTH_SECRET_PREFIX = "nxs_"
INVITATION_PREFIX = "nxi_"
VISIBLE_CHARACTERS = 8  # of the secret, after the prefix, shown when keys are listed


@dataclass(frozen=True, slots=True)
class NewSecret:
    secret: str  # shown to its owner once, never stored
    digest: str  # what the store keeps: hex SHA-256 of the secret
    visible_prefix: str  # enough to recognise it in a list, e.g. `nxa_Qx3k9LmA`


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> NewSecret:
    secret = prefix + secrets.token_urlsafe(32)
    return NewSecret(secret, digest(secret), secret[: len(prefix) + VISIBLE_CHARACTERS])


def new_api_key() -> NewSecret:
    return new_secret(API_KEY_PREFIX)


def new_refresh_token() -> NewSecret:
    return new_secret(REFRESH_TOKEN_PREFIX)


def is_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)
