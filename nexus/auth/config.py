"""The authentication settings, read from `NEXUS_JWT_*` environment variables.

Every variable has a default that suits the embedded server: the issuer and audience name this
API, and the signing key is a development key generated into the data directory on first start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nexus.config import ConfigError

DEFAULT_ISSUER = "https://nexus-alpha.dev"
DEFAULT_AUDIENCE = "nexus-alpha"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    issuer: str  # the `iss` every token carries and every verification demands
    audience: str  # the `aud` likewise
    access_token_seconds: int  # lifetime of an access token (JWT)
    refresh_token_seconds: int  # lifetime of a refresh token (opaque)
    private_key_pem: str | None  # the signing key from configuration, when given
    key_dir: Path  # where the development key is generated when none is configured
    previous_key_files: tuple[Path, ...]  # retired keys whose tokens still verify
    leeway_seconds: int = 30  # clock skew tolerated on exp / nbf / iat

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if environ is None else environ
        pem = env.get("NEXUS_JWT_PRIVATE_KEY", "").strip() or None
        key_file = env.get("NEXUS_JWT_PRIVATE_KEY_FILE", "").strip()
        if pem and key_file:
            raise ConfigError("set NEXUS_JWT_PRIVATE_KEY or NEXUS_JWT_PRIVATE_KEY_FILE, not both")
        if key_file:
            try:
                pem = Path(key_file).read_text()
            except OSError:
                raise ConfigError(
                    "NEXUS_JWT_PRIVATE_KEY_FILE names a file this process cannot read"
                ) from None
        previous = tuple(
            Path(name.strip())
            for name in env.get("NEXUS_JWT_PREVIOUS_KEY_FILES", "").split(",")
            if name.strip()
        )
        return cls(
            issuer=env.get("NEXUS_JWT_ISSUER", DEFAULT_ISSUER),
            audience=env.get("NEXUS_JWT_AUDIENCE", DEFAULT_AUDIENCE),
            access_token_seconds=_seconds(env, "NEXUS_JWT_ACCESS_TOKEN_SECONDS", 900),
            refresh_token_seconds=_seconds(env, "NEXUS_JWT_REFRESH_TOKEN_SECONDS", 30 * 86_400),
            private_key_pem=pem,
            key_dir=data_dir / "keys",
            previous_key_files=previous,
        )


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 60 <= int(text) <= 366 * 86_400:
        raise ConfigError(f"{name} must be a whole number of seconds from 60 to 31622400")
    return int(text)
