"""Incremental payloads on the wire: `multipart/mixed` (Apollo's deferSpec=20220824 and
subscriptionSpec 1.0) and Server-Sent Events (graphql-sse `next` events, then `complete`).

Multipart, as Apollo Router writes it: every part opens with `\\r\\n--graphql`, a
`content-type: application/json` header and a blank line; the body ends with `\\r\\n--graphql--`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from graph.offload import encode

BOUNDARY = "graphql"
DEFER_SPEC = "20220824"
MULTIPART_DEFER = f'multipart/mixed;boundary="{BOUNDARY}";deferSpec={DEFER_SPEC}'
MULTIPART_SUBSCRIPTION = f'multipart/mixed;boundary="{BOUNDARY}";subscriptionSpec="1.0"'
_PART = f"\r\n--{BOUNDARY}\r\ncontent-type: application/json; charset=utf-8\r\n\r\n".encode()
_END = f"\r\n--{BOUNDARY}--\r\n".encode()
_NO_BUFFERING = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def accepts_multipart(accept: str) -> bool:
    return "multipart/mixed" in accept.lower()


def multipart_part(payload: dict[str, Any]) -> bytes:
    return _PART + encode(payload)


def multipart_response(
    payloads: AsyncGenerator[dict[str, Any], None], media_type: str = MULTIPART_DEFER
) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            async for payload in payloads:
                yield multipart_part(payload)
            yield _END
        finally:
            await payloads.aclose()

    # Starlette would append `; charset=utf-8` to a text type only; a multipart one stays as is.
    return StreamingResponse(body(), media_type=media_type, headers=_NO_BUFFERING)


def sse_payload_response(payloads: AsyncGenerator[dict[str, Any], None]) -> StreamingResponse:
    """Each payload as a graphql-sse `next` event, then `complete`."""

    async def events() -> AsyncIterator[bytes]:
        try:
            async for payload in payloads:
                yield b"event: next\ndata: " + encode(payload) + b"\n\n"
            yield b"event: complete\ndata:\n\n"
        finally:
            await payloads.aclose()

    return StreamingResponse(events(), media_type="text/event-stream", headers=_NO_BUFFERING)
