"""Password hashing with the standard library's scrypt.

A hash is one string carrying its parameters and salt, `scrypt$<n>$<r>$<p>$<salt>$<digest>`
(base64), so the cost can be raised later without breaking stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# OWASP's scrypt minimum (N=2^17, r=8, p=1) costs 128 MiB per hash; 2^14 keeps a
# registration fast on a small server and still costs an attacker 16 MiB per guess.
_N, _R, _P = 2**14, 8, 1
_DIGEST_BYTES = 32


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=_DIGEST_BYTES
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return "$".join(["scrypt", str(_N), str(_R), str(_P), *encoded])


def verify_password(password: str, password_hash: str) -> bool:
    """True when `password` is the one `password_hash` was made from."""
    try:
        scheme, n, r, p, salt, digest = password_hash.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
