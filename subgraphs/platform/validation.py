"""Checks on what a client sends, each raising `BadUserInput` with what to fix.

Every check returns the value in its stored form (a canonical UUID, a lower-cased e-mail, an
upper-cased key), so the repository writes only values that passed through here.
"""

from __future__ import annotations

import re
import uuid

from nexus.errors import BadUserInput

MAX_WATCHLIST_ITEMS = 200
MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 200

# Pragmatic, not RFC 5322: one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY = re.compile(r"^[A-Z0-9.\-]{1,20}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def entity_id(value: str, *, field: str = "id") -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadUserInput(f"{field} must be a UUID, such as {uuid.UUID(int=0)}.") from None


def email(value: str) -> str:
    address = value.strip().lower()
    if len(address) > 254 or not _EMAIL.match(address):
        raise BadUserInput("email must be an address such as ada@example.com.", field="email")
    return address


def password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    return value


def name(value: str, *, field: str = "name") -> str:
    stripped = value.strip()
    if not stripped:
        raise BadUserInput(f"{field} must not be empty.", field=field)
    if len(stripped) > MAX_NAME_LENGTH:
        raise BadUserInput(f"{field} must be at most {MAX_NAME_LENGTH} characters.", field=field)
    return stripped


def slug(value: str) -> str:
    if len(value) > 63 or not _SLUG.match(value):
        raise BadUserInput(
            "slug must be 1-63 lower-case letters, digits and single hyphens, "
            "such as acme-capital.",
            field="slug",
        )
    return value


def slug_from(organization_name: str) -> str:
    """The slug an organization gets when none is given: `"Acme Capital"` -> `"acme-capital"`."""
    words = re.findall(r"[a-z0-9]+", organization_name.lower())
    return slug("-".join(words)[:63].strip("-"))


def instrument_key(value: str) -> str:
    key = value.strip().upper()
    if not _KEY.match(key):
        raise BadUserInput(
            f"key {value!r} must be 1-20 letters, digits, dots or hyphens, such as BTC or DGS10.",
            field="key",
        )
    return key


def item_count(count: int) -> None:
    if count > MAX_WATCHLIST_ITEMS:
        raise BadUserInput(
            f"a watchlist holds at most {MAX_WATCHLIST_ITEMS} items; this one would hold {count}.",
            field="items",
        )
