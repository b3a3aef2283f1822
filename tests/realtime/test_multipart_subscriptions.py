"""Subscriptions over multipart HTTP (Apollo Client's protocol): `{"payload": ...}` parts per
event, `{}` heartbeats, errors as payload errors, the closing boundary at the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from graph.subscriptions.session import SubscriptionSettings
from tests.realtime.conftest import Live

ACCEPT = 'multipart/mixed;subscriptionSpec="1.0", application/json'
QUERY = 'subscription { marketUpdates(symbols: ["ETH"]) { symbol price } }'


@pytest.fixture
def subscription_settings() -> SubscriptionSettings:
    # Heartbeats every 0.1 s, so a test sees them without waiting.
    return SubscriptionSettings(
        keepalive_seconds=0.1, init_timeout_seconds=5, client_queue_limit=64
    )


def parts_of(buffer: bytes) -> tuple[list[Any], bytes]:
    """The complete JSON parts in `buffer` and what is left after them."""
    parts = []
    chunks = buffer.split(b"\r\n--graphql")
    for chunk in chunks[1:-1]:
        head, _, body = chunk.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head
        parts.append(json.loads(body))
    return parts, b"\r\n--graphql" + chunks[-1]


async def test_events_arrive_as_payload_parts_between_heartbeats(live: Live) -> None:
    async with (
        httpx.AsyncClient(base_url=live.server.url, timeout=10) as http,
        http.stream(
            "POST", "/graphql", json={"query": QUERY}, headers={"accept": ACCEPT}
        ) as response,
    ):
        content_type = response.headers["content-type"]
        assert content_type == 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'

        async def publish() -> None:
            await asyncio.sleep(0.35)  # quiet first: heartbeats
            for n in range(200):
                await live.tick("ETH", 20.0 + n)
                await asyncio.sleep(0.05)

        publisher = asyncio.create_task(publish())
        received: list[Any] = []
        buffer = b""
        try:
            async for chunk in response.aiter_bytes():
                buffer += chunk
                parts, buffer = parts_of(buffer + b"\r\n--graphql")
                buffer = buffer.removesuffix(b"\r\n--graphql")
                received.extend(parts)
                if sum(1 for p in received if "payload" in p) >= 2:
                    break
        finally:
            publisher.cancel()
    assert {} in received[:3]  # heartbeats before the first event
    payloads = [p["payload"] for p in received if "payload" in p]
    assert all(set(p) == {"data"} for p in payloads)
    prices = [p["data"]["marketUpdates"]["price"] for p in payloads]
    assert prices == sorted(prices) and all(price >= 20.0 for price in prices)


async def test_a_bad_subscription_ends_with_its_errors(live: Live) -> None:
    query = 'subscription { marketUpdates(symbols: ["NOSUCH"]) { symbol } }'
    async with httpx.AsyncClient(base_url=live.server.url, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query}, headers={"accept": ACCEPT})
    assert response.content.endswith(b"\r\n--graphql--\r\n")
    parts, _ = parts_of(response.content)
    errors = [p for p in parts if p != {}]
    assert len(errors) == 1
    assert errors[0]["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
