"""GraphQL errors with a stable `extensions.code`, one class per kind of failure."""

from __future__ import annotations

from graphql import GraphQLError


class CodedError(GraphQLError):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(CodedError):
    """The caller sent a value the API cannot use; nothing was changed."""

    code = "BAD_USER_INPUT"


class NotFound(CodedError):
    code = "NOT_FOUND"


class Conflict(CodedError):
    """The change would break a uniqueness rule (an e-mail already registered, say)."""

    code = "CONFLICT"


class StoreUnavailable(CodedError):
    """A backing store (ClickHouse, PostgreSQL, Milvus, Redis) did not answer."""

    code = "STORE_UNAVAILABLE"

    def __init__(self, store: str) -> None:
        super().__init__(f"The {store} store is unavailable; retry later.", store=store)


class Unauthenticated(CodedError):
    """The field needs a signed-in caller (a token or an API key) and none was sent."""

    code = "UNAUTHENTICATED"


class Forbidden(CodedError):
    """The caller is known but its role or scopes do not allow this."""

    code = "FORBIDDEN"
