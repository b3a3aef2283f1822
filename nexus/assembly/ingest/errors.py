"""The typed failures of ingestion. None of them crashes a run: each is retried, or
dead-lettered, or ends one source's run with a logged error while the others carry on."""

from __future__ import annotations

from typing import Any


class IngestError(Exception):
    """Base of ingestion failures."""


class BadPayload(IngestError):
    """A response the source cannot use (malformed JSON/CSV/XML, truncated, unexpected shape).

    `request` describes what was asked (URL path and parameters, credentials removed) and
    `excerpt` the start of the body, so the dead letter says what came back."""

    def __init__(self, reason: str, *, request: dict[str, Any] | None = None, excerpt: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.request = request or {}
        self.excerpt = excerpt[:500]


class BadRecord(IngestError):
    """A record a sink refuses (a field missing or of the wrong type): dead-lettered alone."""


class SourceUnavailable(IngestError):
    """The source kept failing (5xx, 429, timeouts, connection errors) past the retries; the
    run stops without moving the cursor, so the next run starts from the same place."""


class SourceRefused(IngestError):
    """The source answered with a client error that retrying cannot fix (400, 401, 403, 404):
    a wrong API key, an unknown series. The message is the source's own, credentials removed."""

    def __init__(self, status: int, message: str, *, request: dict[str, Any] | None = None):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.request = request or {}


class AlreadyRunning(IngestError):
    """Another process holds this source's ingestion lease (one consumer per source)."""
