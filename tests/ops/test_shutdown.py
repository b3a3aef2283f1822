"""Graceful shutdown of a real `nexus serve` process: SIGTERM (or Ctrl+C) finishes what is in
flight, ends subscriptions so clients reconnect, and exits within the deadline."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.processes import NexusProcess

DEADLINE_SECONDS = 20
# No demo data, so no replay: these subscriptions stay open and quiet until the server stops.
QUIET_SUBSCRIPTION = "subscription { influencerPosts(minFollowers: 1) { id } }"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NexusProcess]:
    process = NexusProcess(
        ["serve", "--no-demo"],
        tmp_path,
        env={"NEXUS_SHUTDOWN_SECONDS": str(DEADLINE_SECONDS), "NEXUS_REPLAY": "off"},
    )
    process.wait()
    yield process
    process.stop()


class SseReader(threading.Thread):
    """Reads a GraphQL-over-SSE response to its end in the background."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.opened = threading.Event()
        self.body = ""
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with httpx.stream(
                "POST",
                self.url,
                json={"query": QUIET_SUBSCRIPTION},
                headers={"accept": "text/event-stream"},
                timeout=httpx.Timeout(5, read=60),
            ) as response:
                assert response.status_code == 200
                self.opened.set()
                for text in response.iter_text():
                    self.body += text
        except Exception as error:  # reported by the test
            self.error = error
            self.opened.set()


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as opened:
        yield opened


def subscribed_websocket(server: NexusProcess, stack: contextlib.ExitStack) -> Any:
    websocket = stack.enter_context(
        connect(f"ws://127.0.0.1:{server.port}/graphql", subprotocols=["graphql-transport-ws"])
    )
    websocket.send(json.dumps({"type": "connection_init"}))
    assert json.loads(websocket.recv(10))["type"] == "connection_ack"
    websocket.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUIET_SUBSCRIPTION}})
    )
    return websocket


def closing(websocket: Any) -> ConnectionClosed:
    """Receive until the server closes the connection; its close frame."""
    try:
        while True:
            websocket.recv(DEADLINE_SECONDS)
    except ConnectionClosed as closed:
        return closed


def open_subscriptions(server: NexusProcess) -> int:
    metrics = httpx.get(f"{server.url}/metrics").text
    [line] = [m for m in metrics.splitlines() if m.startswith("nexus_subscriptions_open ")]
    return int(float(line.split()[1]))


def wait_for(condition: object, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_sigterm_finishes_a_request_in_flight_and_closes_subscriptions_reconnectably(
    server: NexusProcess, stack: contextlib.ExitStack
) -> None:
    sse = SseReader(f"{server.url}/graphql")
    sse.start()
    assert sse.opened.wait(10) and sse.error is None
    websocket = subscribed_websocket(server, stack)
    wait_for(lambda: open_subscriptions(server) == 2)

    # A request in flight: its headers and half its body sent before the signal.
    body = json.dumps({"query": "{ publicWatchlists { name } }"}).encode()
    in_flight = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    in_flight.sendall(
        b"POST /graphql HTTP/1.1\r\nhost: nexus\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
        + body[:10]
    )

    server.process.send_signal(signal.SIGTERM)

    # The WebSocket is closed with 1012 (Service Restart): graphql-ws clients reconnect on it.
    closed = closing(websocket)
    assert closed.rcvd is not None and closed.rcvd.code == 1012
    # The SSE stream ends without `complete`: graphql-sse clients retry it.
    sse.join(DEADLINE_SECONDS)
    assert not sse.is_alive() and sse.error is None
    assert "event: complete" not in sse.body

    # The request in flight still gets its answer.
    in_flight.sendall(body[10:])
    answer = b""
    while chunk := in_flight.recv(65536):
        answer += chunk
    in_flight.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    # (extensions.cost rides along with demand control on; the data is what the client asked for)
    assert json.loads(payload)["data"] == {"publicWatchlists": []}

    # Ended by the signal it was sent (as uvicorn re-raises it) after a complete shutdown.
    assert server.process.wait(DEADLINE_SECONDS) in (0, -signal.SIGTERM)
    log = server.log.read_text()
    assert "shutting down" in log
    assert "Application shutdown complete" in log
    assert "timeout graceful shutdown exceeded" not in log
    # New connections are refused once it stopped listening.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/healthz", timeout=2)


def test_ctrl_c_with_an_open_sse_subscription_exits(server: NexusProcess) -> None:
    sse = SseReader(f"{server.url}/graphql")
    sse.start()
    assert sse.opened.wait(10) and sse.error is None
    wait_for(lambda: open_subscriptions(server) == 1)
    server.process.send_signal(signal.SIGINT)
    try:
        assert server.process.wait(DEADLINE_SECONDS) in (0, -signal.SIGINT, 130)
    except subprocess.TimeoutExpired:
        pytest.fail(f"nexus serve still running {DEADLINE_SECONDS}s after Ctrl+C")
    sse.join(5)
    assert not sse.is_alive()
    assert "Application shutdown complete" in server.log.read_text()
