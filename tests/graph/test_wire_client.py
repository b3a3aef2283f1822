"""The router's own HTTP/1.1 client (graph/executor/wire.py) against servers on 127.0.0.1 that
write exactly the bytes each case needs: keep-alive reuse within the connection limit, the
three ways a body can end, servers that close, lie, stall or truncate, and what reaches the
client of the router when they do."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from graph.executor import HttpTransport, wire
from graph.executor.wire import WireClient

HEADERS = {"accept": "application/json", "content-type": "application/json"}


@dataclass
class Seen:
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)  # (head, body)


# What a server writes back for one request: the bytes, and whether to close afterwards.
Answer = Callable[[int, bytes, bytes], Awaitable[tuple[bytes, bool]]]


def ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + b"".join(extra)
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


async def echo(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
    return ok(body), False


@asynccontextmanager
async def server(answer: Answer = echo) -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        seen.open_now += 1
        seen.most_open = max(seen.most_open, seen.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                seen.requests.append((head, body))
                reply, close = await answer(len(seen.requests) - 1, head, body)
                writer.write(reply)
                await writer.drain()
                if close:
                    return
        finally:
            seen.open_now -= 1
            writer.close()

    listening = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/graphql", seen
    finally:
        listening.close()


def client(timeout: float = 5.0, max_connections: int = 4) -> WireClient:
    return WireClient(timeout=timeout, max_connections=max_connections, headers=HEADERS)


async def test_many_requests_share_a_few_kept_alive_connections() -> None:
    async def slow_echo(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        await asyncio.sleep(0.01)
        return ok(body), False

    wire = client(max_connections=3)
    async with server(slow_echo) as (url, seen):
        bodies = [b'{"query":"{ n }","variables":{"n":%d}}' % n for n in range(60)]
        answers = await asyncio.gather(*(wire.post(url, body) for body in bodies))
        await wire.close()
    assert answers == [(200, body) for body in bodies]  # each request its own answer
    assert seen.connections == 3 and seen.most_open == 3


async def test_the_request_carries_its_headers_and_host() -> None:
    wire = client()
    async with server() as (url, seen):
        await wire.post(url + "?x=1", b"{}", {"traceparent": "00-ab-cd-01"})
        await wire.close()
    head = seen.requests[0][0].decode()
    lines = head.split("\r\n")
    assert lines[0] == "POST /graphql?x=1 HTTP/1.1"
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert f"host: 127.0.0.1:{port}" in lines
    for line in (
        "accept: application/json",
        "content-type: application/json",
        "content-length: 2",
        "traceparent: 00-ab-cd-01",
    ):
        assert line in lines


async def test_headers_that_would_break_the_request_are_refused() -> None:
    wire = client()
    async with server() as (url, seen):
        with pytest.raises(ValueError, match="cannot be sent"):
            await wire.post(url, b"{}", {"x-evil": "a\r\nx-injected: 1"})
        assert await wire.post(url, b"{}") == (200, b"{}")  # the client still works
        await wire.close()
    assert [b"x-injected" in head for head, _ in seen.requests] == [False]
    with pytest.raises(ValueError, match="content-length"):
        WireClient(timeout=1, max_connections=1, headers={"Content-Length": "5"})


async def test_chunked_close_delimited_and_interim_answers_arrive_whole() -> None:
    async def chunked(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        if index == 0:
            reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            reply += b'5\r\n{"a":\r\n3\r\n[1]\r\n1\r\n}\r\n0\r\n\r\n'
            return reply, False
        if index == 1:
            return b'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{"until":"close"}', True
        if index == 2:  # interim answers first: the final one is the request's
            return b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" + ok(body), False
        return ok(body), False

    wire = client()
    async with server(chunked) as (url, seen):
        assert await wire.post(url, b"{}") == (200, b'{"a":[1]}')
        assert await wire.post(url, b"{}") == (200, b'{"until":"close"}')
        assert await wire.post(url, b"[2]") == (200, b"[2]")  # a fresh connection after the close
        assert await wire.post(url, b"[3]") == (200, b"[3]")  # kept alive after the interim one
        await wire.close()
    assert seen.connections == 2


async def test_connection_close_and_idle_closes_by_the_server_are_survived() -> None:
    async def close_every_other(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        if index % 2 == 0:
            return ok(body, b"connection: close\r\n"), True
        return ok(body), True  # closes without saying so: the client finds the socket closed

    wire = client(max_connections=1)
    async with server(close_every_other) as (url, seen):
        for n in range(6):
            assert await wire.post(url, b"[%d]" % n) == (200, b"[%d]" % n)
            await asyncio.sleep(0.02)  # the server's close arrives while the connection idles
        await wire.close()
    assert seen.connections == 6


async def test_a_connection_idle_too_long_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers close idle keep-alive connections; one idle longer than the client's limit is
    closed by the client rather than written to as the server closes it."""
    monkeypatch.setattr(wire, "IDLE_SECONDS", 0.1)
    reused = client(max_connections=1)
    async with server() as (url, seen):
        assert await reused.post(url, b"[1]") == (200, b"[1]")
        assert await reused.post(url, b"[2]") == (200, b"[2]")  # reused at once
        await asyncio.sleep(0.2)
        assert await reused.post(url, b"[3]") == (200, b"[3]")  # idle too long: a new one
        await reused.close()
    assert seen.connections == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"data":', ConnectionResetError),
        (b"HTTP/1.1 200 OK\r\ncontent-le", ConnectionResetError),
        (b"HTPT/1.1 200 OK\r\n\r\n", ConnectionError),
        (b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", ConnectionError),
    ],
    ids=["truncated-body", "truncated-head", "not-http", "bad-length"],
)
async def test_broken_answers_are_errors_and_never_reused(
    reply: bytes, error: type[Exception]
) -> None:
    async def broken_first(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        return (reply, True) if index == 0 else (ok(body), False)

    wire = client(max_connections=1)
    async with server(broken_first) as (url, seen):
        with pytest.raises(error):
            await wire.post(url, b"[1]")
        assert await wire.post(url, b"[2]") == (200, b"[2]")
        await wire.close()
    assert seen.connections == 2


async def test_a_late_answernever_reaches_the_next_request() -> None:
    async def late_first(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        if index == 0:
            await asyncio.sleep(0.5)
            return ok(b'"late"'), False
        return ok(body), False

    wire = client(timeout=0.2, max_connections=1)
    async with server(late_first) as (url, seen):
        with pytest.raises(TimeoutError):
            await wire.post(url, b'"first"')
        assert await wire.post(url, b'"second"') == (200, b'"second"')
        await asyncio.sleep(0.4)  # the late answer is written to a connection we closed
        assert await wire.post(url, b'"third"') == (200, b'"third"')
        await wire.close()
    assert seen.connections == 2  # the timed-out request's connection was closed, not reused


async def test_requests_waiting_for_a_connection_time_out_and_free_nothing_twice() -> None:
    release = asyncio.Event()

    async def held(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        if index == 0:
            await release.wait()
        return ok(body), False

    wire = client(timeout=5.0, max_connections=1)
    async with server(held) as (url, seen):
        first = asyncio.ensure_future(wire.post(url, b"[0]"))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(wire.post(url, b"[%d]" % n)) for n in (1, 2, 3)]
        await asyncio.sleep(0.05)
        waiting[1].cancel()  # gives up while queued for the only connection
        release.set()
        assert await first == (200, b"[0]")
        assert await waiting[0] == (200, b"[1]")
        assert await waiting[2] == (200, b"[3]")
        with pytest.raises(asyncio.CancelledError):
            await waiting[1]
        more = await asyncio.gather(*(wire.post(url, b"[%d]" % n) for n in range(4, 10)))
        await wire.close()
    assert more == [(200, b"[%d]" % n) for n in range(4, 10)]
    assert seen.connections == 1 and seen.most_open == 1


async def test_an_unreachable_or_broken_subgraph_is_an_error_the_client_can_read() -> None:
    async def truncated(index: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
        return b'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"data":{', True

    async with server(truncated) as (url, _):
        transport = HttpTransport({"s": url})
        answer = await transport.fetch("s", "{ a }", None)
        await transport.close()
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"
    assert "ConnectionResetError" in error["message"]
    async with server() as (url, _):
        pass  # closed: nothing listens on the port any more
    transport = HttpTransport({"s": url})
    answer = await transport.fetch("s", "{ a }", None)
    await transport.close()
    assert answer["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"


def _self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that nobody trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


async def test_https_subgraphs_go_over_tls_and_their_certificates_are_checked(
    tmp_path: Path,
) -> None:
    """An https:// URL is never sent in the clear: the router speaks TLS to it (through aiohttp)
    and refuses a certificate it cannot verify."""
    handshakes: list[bytes] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handshakes.append(b"tls")  # reached only after a TLS handshake
        writer.close()

    listening = await asyncio.start_server(
        accepted, "127.0.0.1", 0, ssl=_self_signed(tmp_path), ssl_handshake_timeout=5
    )
    port = listening.sockets[0].getsockname()[1]
    transport = HttpTransport({"s": f"https://127.0.0.1:{port}/graphql"}, timeout=5.0)
    try:
        answer = await transport.fetch("s", "{ a }", None)
    finally:
        await transport.close()
        listening.close()
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"
    assert "Certificate" in error["message"]  # aiohttp's ClientConnectorCertificateError
    assert handshakes == []


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_pool_recovers_from_a_subgraph_that_misbehaves_every_way(loop: str) -> None:
    """Answers, silent closes, late answers, `connection: close` and truncated bodies at random,
    with requests timing out and cancelled on the way: every answer that arrives is the
    request's own, no connection slot is lost (uvloop, cancelled as it connects, closed the
    socket without telling the protocol, and the slots ran out), and once the subgraph behaves
    every request is answered."""
    chaos = random.Random(7)
    behaving = False

    async def misbehave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                roll = 0.0 if behaving else chaos.random()
                if roll < 0.6:
                    writer.write(ok(body))
                elif roll < 0.7:
                    return
                elif roll < 0.8:
                    await asyncio.sleep(0.15)
                    writer.write(ok(body))
                elif roll < 0.9:
                    writer.write(ok(body, b"connection: close\r\n"))
                    await writer.drain()
                    return
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n" + body[:2])
                    await writer.drain()
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    async def run() -> tuple[dict[str, int], list[tuple[int, bytes]], int, int]:
        nonlocal behaving
        listening = await asyncio.start_server(misbehave, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/graphql"
        wire = client(timeout=0.1, max_connections=3)
        outcomes: dict[str, int] = {}
        slots = asyncio.Semaphore(20)

        async def one(n: int) -> None:
            async with slots:
                task = asyncio.ensure_future(wire.post(url, b"[%d]" % n))
                if chaos.random() < 0.05:
                    await asyncio.sleep(chaos.random() * 0.01)
                    task.cancel()
                try:
                    status, body = await task
                    assert (status, body) == (200, b"[%d]" % n)  # its own answer, always
                    kind = "answered"
                except asyncio.CancelledError:
                    kind = "cancelled"
                except (TimeoutError, ConnectionError) as error:
                    kind = type(error).__name__
                outcomes[kind] = outcomes.get(kind, 0) + 1

        await asyncio.gather(*(one(n) for n in range(1500)))
        await asyncio.sleep(0.3)  # late answers and closes settle
        [pool] = wire._pools.values()
        open_, live = pool.open, len(pool.connections)
        behaving = True
        after = await asyncio.gather(*(wire.post(url, b"[%d]" % n) for n in range(30)))
        await wire.close()
        listening.close()
        return outcomes, after, open_, live

    if loop == "uvloop":
        outcomes, after, open_, live = uvloop.run(run())
    else:
        outcomes, after, open_, live = asyncio.run(run())
    assert set(outcomes) == {"answered", "cancelled", "TimeoutError", "ConnectionResetError"}
    assert open_ == live <= 3  # every slot accounted for: open ones are real connections
    assert after == [(200, b"[%d]" % n) for n in range(30)]


@pytest.mark.parametrize(
    "url", ["http:///graphql", "http://127.0.0.1:port/graphql", "http://[::1/graphql"]
)
async def test_a_malformed_subgraph_url_is_an_unavailable_subgraph(url: str) -> None:
    transport = HttpTransport({"s": url})
    answer = await transport.fetch("s", "{ a }", None)
    await transport.close()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"
