"""Shaping and serialising large results off the event loop, and giving their memory back.

A 5 MB answer (every series' observations since 1980) took seconds of pure Python to shape and
encode; on the loop that froze every other client. A bounded probe (a few thousand nodes at
most) tells small results, shaped on the loop as before (no thread hop on the hot path), from
large ones, which are shaped and encoded in a worker thread: the loop keeps serving, because the
thread gives up the GIL every switch interval (5 ms). The encoded body travels with the response
so the HTTP edge does not encode it again, and a body over the response size limit is replaced
by a clear error.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import logging
import os
from typing import Any

import orjson

from graph.executor import shape_response
from graph.planner.shape import ResponseShape

log = logging.getLogger("graph.offload")

# Responses with more nodes (objects, lists and scalars) than this are shaped in a thread.
LARGE_NODES = 5_000


class Serialised(dict[str, Any]):
    """A response already encoded as JSON (`body`), because it was large."""

    body: bytes


def _exceeds(value: Any, budget: int) -> bool:
    """Whether `value` holds more than `budget` nodes; stops counting at the budget."""
    pending = [value]
    seen = 0
    while pending:
        item = pending.pop()
        seen += 1
        if seen > budget:
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            if seen + len(item) > budget:
                return True
            pending.extend(item)
    return False


def encode(response: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(response)
    except TypeError:  # an integer beyond 64 bits, which orjson refuses
        return json.dumps(response, separators=(",", ":")).encode()


def with_extensions(body: bytes, extensions: dict[str, Any]) -> bytes:
    """An encoded response object with `extensions` added as its last member, without
    decoding and encoding the (large) rest again."""
    assert body.endswith(b"}")
    return body[:-1] + b',"extensions":' + orjson.dumps(extensions) + b"}"


def _shape(shape: ResponseShape, data: dict[str, Any], errors: list[dict[str, Any]]) -> Any:
    shaped = shape_response(shape, data, errors)
    return {"errors": errors, "data": shaped} if errors else {"data": shaped}


def _shape_and_encode(
    shape: ResponseShape,
    data: dict[str, Any],
    errors: list[dict[str, Any]],
    max_bytes: int | None,
) -> Serialised:
    response = Serialised(_shape(shape, data, errors))
    body = encode(response)
    if max_bytes is not None and len(body) > max_bytes:
        refused = Serialised(
            {
                "errors": [
                    {
                        "message": f"The response is {len(body):,} bytes; the limit is "
                        f"{max_bytes:,}. Ask for less (shorter date ranges, fewer fields or "
                        "aliases, smaller limits).",
                        "extensions": {"code": "RESPONSE_TOO_LARGE"},
                    }
                ],
                "data": None,
            }
        )
        refused.body = encode(refused)
        return refused
    response.body = body
    return response


async def shaped_off_loop(
    shape: ResponseShape,
    data: dict[str, Any],
    errors: list[dict[str, Any]],
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """The client's response; a large one is shaped and encoded in a thread (`Serialised`)."""
    if not _exceeds(data, LARGE_NODES):
        return _shape(shape, data, errors)
    response = await asyncio.to_thread(_shape_and_encode, shape, data, errors, max_bytes)
    trim_memory_soon()
    return response


_libc: Any = None
_trim_pending = False


def trim_memory_soon(delay: float = 1.0) -> None:
    """Hand freed heap back to the OS shortly after a large response (glibc keeps it in its
    arenas otherwise, so RSS stayed at its peak: 648 MB -> 1.4 GB). Debounced: one at a time."""
    global _libc, _trim_pending
    if _trim_pending or os.environ.get("NEXUS_MALLOC_TRIM", "on") == "off":
        return
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name) if name else False
            if _libc and not hasattr(_libc, "malloc_trim"):
                _libc = False
        except OSError:
            _libc = False
    if not _libc:
        return
    _trim_pending = True
    loop = asyncio.get_running_loop()

    def trim() -> None:
        global _trim_pending
        _trim_pending = False
        loop.run_in_executor(None, _libc.malloc_trim, 0)

    loop.call_later(delay, trim)
