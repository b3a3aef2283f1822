"""The one error a bad credential raises, whatever is wrong with it."""

from __future__ import annotations

from nexus.errors import Unauthenticated


class AuthenticationError(Unauthenticated):
    """Credentials were sent but cannot be accepted (HTTP 401, code UNAUTHENTICATED).

    The message is safe to show a client: it says what to do, never which check failed in
    detail nor anything of the token, key or secret.
    """

    def __init__(self, message: str = "The credentials are not valid; sign in again.") -> None:
        super().__init__(message)
