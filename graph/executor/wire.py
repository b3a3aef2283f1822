"""The router's HTTP/1.1 client for `http://` subgraphs: keep-alive connections on asyncio
protocols, responses parsed by httptools (llhttp, the parser uvicorn serves with).

A subgraph request is one write (request line, headers and body together) and one parsed
response; the client keeps at most `max_connections` connections to each host and port, hands
a connection freed by one request straight to the next waiting one, and never reuses a
connection whose request failed, timed out or was cancelled (a late answer can never reach
another request). It spends under a third of aiohttp's CPU per request (29 against about
100 us here; `benchmarks/router.py --client-cpu` measures both side by side), which is a large
part of the router's own work for a request whose fetches are not shared. `https://`
subgraphs go through aiohttp (graph/executor/http.py).
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import httptools

# A connection idle longer than this is closed instead of reused: servers close idle
# keep-alive connections after a few seconds (gunicorn after 2, uvicorn and Node after 5), and
# a request written just as the server closes would fail. Seconds.
IDLE_SECONDS = 1.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection: answers one request at a time through `waiter`."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.status = 0
        self.delimited = False  # the response says where its body ends (length or chunked)
        self.reusable = False
        self.made = False  # connected: from here on the pool counts it (and `lost` uncounts it)
        self.closed = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.made = True
        self.pool.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            if self.status and not self.delimited:  # HTTP/1.1: the body ends when the server closes
                waiter.set_result((self.status, b"".join(self.chunks)))
            else:
                waiter.set_exception(ConnectionResetError("the subgraph closed the connection"))
        self.pool.lost(self)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing was asked: a server talking out of turn
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.fail(ConnectionError("the subgraph's HTTP response is malformed"))

    def eof_received(self) -> bool:
        self.closed = True  # never handed out again
        return False  # close our side too; connection_lost settles the request

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.delimited = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue, 103 Early Hints)
            self.chunks, self.status, self.delimited = [], 0, False
            return  # the final answer follows on the same connection
        self.reusable = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, b"".join(self.chunks)))

    # the pool's side
    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        self.chunks = []
        self.status = 0
        self.delimited = False
        self.reusable = False
        self.waiter = self.pool.loop.create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter

    def fail(self, error: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.reusable = False
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Pool:
    """The connections to one host and port: at most `limit` open, idle ones reused newest first,
    requests beyond the limit queued in arrival order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, host: str, port: int, limit: int) -> None:
        self.loop = loop
        self.host = host
        self.port = port
        self.limit = limit
        self.open = 0  # connections open or opening
        self.idle: list[_Connection] = []
        self.waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self.connections: set[_Connection] = set()

    async def acquire(self) -> _Connection:
        now = self.loop.time()
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        if self.open >= self.limit:
            waiter: asyncio.Future[_Connection | None] = self.loop.create_future()
            self.waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._handback(waiter.result())  # handed over as we gave up: pass it on
                raise
            if handed is not None:
                return handed
            # a slot was freed (and reserved for us): open a connection in it
        else:
            self.open += 1
        connection = _Connection(self)
        try:
            await self.loop.create_connection(lambda: connection, self.host, self.port)
        except BaseException:
            if connection.made:  # cancelled as it connected: uvloop then closes the socket
                connection.close()  # without telling the protocol, so the slot is given
                self.lost(connection)  # back here (`lost` counts each connection once)
            else:
                self.open -= 1
                self._wake()
            raise
        if connection.closed:  # closed by the server as soon as it opened
            raise ConnectionResetError("the subgraph closed the connection")
        return connection

    def release(self, connection: _Connection) -> None:
        """After a complete response: reuse the connection, or close it if it cannot be."""
        if not connection.reusable or connection.closed:
            connection.close()
            return
        connection.idle_since = self.loop.time()
        self._handback(connection)

    def _handback(self, connection: _Connection | None) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is None:
            self.open -= 1  # a reserved slot nobody wants any more
        else:
            self.idle.append(connection)

    def lost(self, connection: _Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            if connection in self.idle:
                self.idle.remove(connection)
            self.open -= 1
            self._wake()

    def _wake(self) -> None:
        """A slot is free: the first live waiter opens a connection in it."""
        if self.waiters and self.open < self.limit:
            self.open += 1
            self._handback(None)

    def close(self) -> None:
        for connection in list(self.connections):
            connection.fail(ConnectionResetError("the router's client was closed"))


class WireClient:
    """POSTs to `http://` URLs (see the module's docstring). `headers` go with every request;
    `timeout` (seconds) bounds each request from asking for a connection to the last byte of
    the answer."""

    def __init__(self, *, timeout: float, max_connections: int, headers: Mapping[str, str]) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        framing = {"host", "content-length", "transfer-encoding", "connection"} & {
            name.lower() for name in headers
        }
        if framing:
            raise ValueError(f"the client sets {', '.join(sorted(framing))} itself")
        self._headers = _header_lines(headers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pools: dict[tuple[str, int], _Pool] = {}
        self._routes: dict[str, tuple[_Pool, bytes]] = {}  # URL -> its pool, request head

    def _route(self, url: str) -> tuple[_Pool, bytes]:
        route = self._routes.get(url)
        if route is None:
            try:
                parts = urlsplit(url)
                host, port = parts.hostname, parts.port or 80
            except ValueError:  # a port that is not a number, a bracket left open
                host = None
            if not host or parts.scheme != "http":  # unreachable, as for any client
                raise ConnectionError("the subgraph's URL is not a valid http:// URL")
            pool = self._pools.get((host, port))
            if pool is None:
                assert self._loop is not None
                pool = self._pools[(host, port)] = _Pool(
                    self._loop, host, port, self.max_connections
                )
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            lines = {"host": parts.netloc.rpartition("@")[2]}
            if parts.username is not None:  # http://user:password@host/: HTTP Basic, as aiohttp
                secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                lines["authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
            head = f"POST {target} HTTP/1.1\r\n".encode() + _header_lines(lines) + self._headers
            route = self._routes[url] = (pool, head)
        return route

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self._forget()
            self._loop = loop
        pool, head = self._route(url)
        request = b"".join(
            (
                head,
                _header_lines(headers) if headers else b"",
                b"content-length: %d\r\n\r\n" % len(body),
                body,
            )
        )
        async with asyncio.timeout(self.timeout):
            connection = await pool.acquire()
            try:
                answer = await connection.send(request)
            except BaseException:
                connection.close()  # a failed, late or cancelled request: never reused
                raise
        pool.release(connection)
        return answer

    def _forget(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            for pool in self._pools.values():
                pool.close()
        self._pools.clear()
        self._routes.clear()

    async def close(self) -> None:
        self._forget()


def _header_lines(headers: Mapping[str, str]) -> bytes:
    """`name: value` lines; a header that would end a line early (CR, LF, NUL) is refused."""
    lines = []
    for name, value in headers.items():
        line = f"{name}: {value}\r\n"
        if "\r" in line[:-2] or "\n" in line[:-2] or "\0" in line or not name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent: it would break the request")
        lines.append(line)
    return "".join(lines).encode("latin-1")
