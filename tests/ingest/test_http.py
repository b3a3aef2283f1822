"""The sources' HTTP client: Retry-After in both forms, credentials masked, backoff capped."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from nexus.assembly.ingest.errors import SourceRefused
from nexus.assembly.ingest.http import Rate, RetryPolicy, SourceHttp, _retry_after


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert _retry_after("2") == 2.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    in_ten = _retry_after(formatdate(time.time() + 10, usegmt=True))
    assert in_ten is not None and 8 <= in_ten <= 10


def test_requests_are_described_without_their_credentials() -> None:
    http = SourceHttp("fred", "http://x", rate=Rate(1), secrets=("api_key",))
    shown = http.describe("/fred/series", {"series_id": "GDP", "api_key": "s3cret"})
    assert shown == {
        "source": "fred",
        "path": "/fred/series",
        "params": {"series_id": "GDP", "api_key": "***"},
    }


def test_a_long_retry_after_is_capped() -> None:
    http = SourceHttp("fred", "http://x", rate=Rate(1), retry=RetryPolicy(cap_seconds=3))
    assert http._backoff(1, 3600.0) == 3.0
    assert 0 <= http._backoff(5, None) <= 3.0


async def test_a_client_error_is_refused_with_the_sources_message_not_retried() -> None:
    calls = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(400, json={"error_code": 400, "error_message": "Bad Request."})

    http = SourceHttp(
        "fred", "http://fred.test", rate=Rate(100), transport=httpx.MockTransport(answer)
    )
    with pytest.raises(SourceRefused, match=r"HTTP 400: Bad Request\."):
        await http.get_json("/fred/series", {"series_id": "X"})
    assert calls == 1
    await http.close()
