"""Hostile-client benchmark: each abusive request against a real `nexus serve`, one at a time.

    PYTHONPATH=. .venv/bin/python benchmarks/hostile.py [--repo PATH] [--timeout 20] [--only NAME]
    PYTHONPATH=. .venv/bin/python benchmarks/hostile.py --normal-traffic OTHER_REPO [--rounds 3]
    PYTHONPATH=. .venv/bin/python benchmarks/hostile.py --checks-off [--rounds 3]

Starts `nexus serve` from `--repo` (default: this checkout; point it at another worktree, with
its own .venv, to measure the code before a change) on a fresh data directory, then runs every
case in turn and prints, per case: what the client got (status, error code or answer size), the
time to that refusal or answer, the server's peak resident memory during the case (sampled
every 20 ms), and `/healthz` p99 / max latency measured beside it (a probe every 5 ms on its own
connection). A case with no answer within `--timeout` seconds is reported as such. After the
cases it prints the server's memory at start, after the cases and after 5 s idle.

`--normal-traffic OTHER_REPO` instead measures what the checks cost ordinary requests: wrk
(one thread, 16 connections, 10 s) against `nexus serve` of this checkout and of OTHER_REPO, in
turn for `--rounds` rounds, on a small cross-subgraph query; it prints requests per second.
`--checks-off` does the same with this checkout twice: as it is, and with
NEXUS_HARDENING_CHECKS=off (no request limits, input checks, body or header guard).

Cases known to exhaust memory on unprotected code (5,000 `_entities` representations, nested
`similar` fan-out) are skipped with `--safe` (use it when measuring old code on a shared box).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.support.hostile import HealthProbe
from tests.support.processes import free_port

HERE = Path(__file__).resolve().parent.parent
OBSERVATIONS = 'observations(from: "1980-01-01", to: "2025-12-31") { date value }'


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def start(repo: Path, data_dir: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "NEXUS_DATA_DIR": str(data_dir), "REDIS_URL": "memory://"}
    env.update({"NEXUS_REPLAY": "off", "NEXUS_EXPOSE_SUBGRAPHS": "on", "PYTHONPATH": str(repo)})
    env.update(extra_env or {})
    for name in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL"):
        env.pop(name, None)
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [str(repo / ".venv/bin/python"), "-m", "nexus.assembly.cli", "serve", "--port", str(port)],
        cwd=repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {(data_dir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return Server(process, port)
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("server not ready in 300 s")


def outcome(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}"
    errors = body.get("errors") or []
    if errors:
        code = (errors[0].get("extensions") or {}).get("code", "?")
        return f"{response.status_code} {code}"
    return f"{response.status_code} answer {len(response.content) / 1024:,.0f} KB"


def post_json(server: Server, timeout: float, path: str = "/graphql", **body: Any) -> str:
    response = httpx.post(server.url + path, json=body, timeout=timeout)
    return outcome(response)


def post_raw(server: Server, timeout: float, content: Any) -> str:
    response = httpx.post(
        server.url + "/graphql",
        content=content,
        headers={"content-type": "application/json"},
        timeout=timeout,
    )
    return outcome(response)


def aliases(count: int, selection: str) -> str:
    return "{ " + " ".join(f"a{n}: {selection}" for n in range(count)) + " }"


def doubling_fragments(levels: int) -> str:
    fragments = ["fragment F0 on Series { a: id }"]
    fragments += [
        f"fragment F{n} on Series {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)
    ]
    return f"{{ allSeries {{ ...F{levels - 1} }} }} " + " ".join(fragments)


def subscribe_flood(server: Server, timeout: float) -> str:
    async def flood() -> str:
        url = f"ws://127.0.0.1:{server.port}/graphql"
        payload = '{"query": "subscription { marketUpdates(symbols: [\\"BTC\\"]) { symbol } }"}'
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send('{"type": "connection_init"}')
            await ws.recv()
            counts: dict[str, int] = {}

            async def read() -> None:
                async for text in ws:
                    kind = json.loads(text)["type"]
                    counts[kind] = counts.get(kind, 0) + 1

            reader = asyncio.create_task(read())
            for n in range(10_000):
                await ws.send(f'{{"type":"subscribe","id":"{n}","payload":{payload}}}')
            started = time.perf_counter()
            async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as other:
                await other.send('{"type": "connection_init"}')
                await asyncio.wait_for(other.recv(), timeout)
            handshake = time.perf_counter() - started
            await asyncio.sleep(1)
            reader.cancel()
            return f"{counts.get('error', 0)} refused; new handshake {handshake * 1000:.0f} ms"

    return asyncio.run(asyncio.wait_for(flood(), timeout))


def large_answers(server: Server, timeout: float) -> str:
    """Legitimate large responses, one after another (memory should come back afterwards)."""
    query = aliases(
        4,
        'series(id: "DGS10") { observations(from: "2010-01-01", to: "2025-12-31") { date value } }',
    )
    sizes = set()
    for _ in range(20):
        sizes.add(post_json(server, timeout, query=query))
    return ", ".join(sorted(sizes))


def big_body(megabytes: int) -> Iterator[bytes]:
    for _ in range(megabytes * 16):
        yield b" " * 65_536


def cases(safe: bool) -> list[tuple[str, Callable[[Server, float], str]]]:
    listed: list[tuple[str, Callable[[Server, float], str], bool]] = [
        (
            "subgraph _entities x5000",
            lambda s, t: post_json(
                s,
                t,
                "/subgraphs/macro/graphql",
                query="query($r: [_Any!]!) { _entities(representations: $r) "
                "{ ... on Series { title } } }",
                variables={"r": [{"__typename": "Series", "id": "DGS10"}] * 5000},
            ),
            True,
        ),
        (
            "allSeries observations 1980-2025",
            lambda s, t: post_json(s, t, query=f"{{ allSeries {{ {OBSERVATIONS} }} }}"),
            False,
        ),
        (
            "20 aliases of it",
            lambda s, t: post_json(s, t, query=aliases(20, f"allSeries {{ {OBSERVATIONS} }}")),
            False,
        ),
        (
            "DGS10 1995-2025 (legitimate)",
            lambda s, t: post_json(
                s,
                t,
                query='{ series(id: "DGS10") { observations(from: "1995-01-01", '
                'to: "2025-12-31") { date value } } }',
            ),
            False,
        ),
        (
            "posts/similar/similar fan-out",
            lambda s, t: post_json(
                s,
                t,
                query="{ posts(limit: 100) { similar(limit: 100) { similar(limit: 10) { id } } } }",
            ),
            True,
        ),
        (
            "58 KB document, 2,000 aliases",
            lambda s, t: post_json(s, t, query=aliases(2000, "allSeries { id title }")),
            False,
        ),
        (
            "fragments doubling x20",
            lambda s, t: post_json(s, t, query=doubling_fragments(20)),
            False,
        ),
        ("10,000 subscribes on one socket", subscribe_flood, False),
        ("20 large answers (16k observations)", large_answers, False),
        ("64 MB chunked body", lambda s, t: post_raw(s, t, big_body(64)), False),
        (
            "lone surrogate in a variable",
            lambda s, t: post_raw(
                s, t, b'{"query": "{ allSeries { id } }", "variables": {"v": "\\ud800"}}'
            ),
            False,
        ),
        (
            "variables nested 100,000 deep",
            lambda s, t: post_raw(
                s,
                t,
                b'{"query": "{ allSeries { id } }", "variables": {"v": '
                + b"[" * 100_000
                + b"]" * 100_000
                + b"}}",
            ),
            False,
        ),
    ]
    return [(name, run) for name, run, dangerous in listed if not (safe and dangerous)]


def measure(server: Server, run: Callable[[Server, float], str], timeout: float) -> dict[str, Any]:
    peak = [server.rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with HealthProbe(server.port) as probe:
        started = time.perf_counter()
        try:
            result = run(server, timeout)
        except (httpx.TimeoutException, TimeoutError):
            result = f"no answer in {timeout:g} s"
        except Exception as error:
            result = f"{type(error).__name__}"
        seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "result": result,
        "seconds": seconds,
        "peak_rss_mb": peak[0],
        "healthz_p99_ms": probe.p99_ms,
        "healthz_max_ms": probe.max_ms,
        "probe_failures": probe.failures,
    }


NORMAL_QUERY = (
    '{ series(id: "DGS10") { title latest { date value } } '
    'token(symbol: "BTC") { name latestPrice { close } } }'
)


def wrk_rate(server: Server, seconds: float) -> float:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    body = json.dumps({"query": NORMAL_QUERY}).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    output = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds:g}s", "-s", str(script), server.url + "/graphql"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    if "Non-2xx" in output:  # refusals (a 429 is cheap) would flatter whichever ran more
        raise SystemExit(f"wrk saw responses other than 200:\n{output}")
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"wrk printed no rate:\n{output}")


Target = tuple[str, Path, dict[str, str]]  # label, checkout, extra environment


def normal_traffic(targets: list[Target], rounds: int, seconds: float) -> None:
    rates: dict[str, list[float]] = {label: [] for label, _, _ in targets}
    loads: list[float] = []
    for _ in range(rounds):
        for label, repo, extra_env in targets:
            with tempfile.TemporaryDirectory(prefix="nexus-normal-") as directory:
                # Demand control measuring: the anonymous plan's budget would otherwise answer
                # most of the run with 429 RATE_LIMITED, and wrk would count those.
                measuring = {"NEXUS_DEMAND_CONTROL": "measure", **extra_env}
                server = start(repo, Path(directory), measuring)
                try:
                    check = httpx.post(server.url + "/graphql", json={"query": NORMAL_QUERY})
                    assert "errors" not in check.json(), check.text
                    wrk_rate(server, 2)  # warm-up
                    loads.append(os.getloadavg()[0])
                    rates[label].append(wrk_rate(server, seconds))
                finally:
                    server.process.kill()
                    server.process.wait()
            print(f"{label}: {rates[label][-1]:,.0f} req/s (load {loads[-1]:.1f})", flush=True)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    for label, values in rates.items():
        print(f"{label:40} median {medians[label]:,.0f} req/s  {values}")
    first, *others = medians
    for label in others:
        change = 100 * (medians[first] / medians[label] - 1) if medians[label] else float("nan")
        print(
            f"{first} / {label}: {change:+.1f}% requests per second "
            f"(load {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="checkout to serve from")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains these")
    parser.add_argument("--safe", action="store_true", help="skip memory-exhausting cases")
    parser.add_argument("--normal-traffic", type=Path, help="compare throughput with this repo")
    parser.add_argument(
        "--checks-off",
        action="store_true",
        help="compare throughput with this checkout's hardening checks on and off "
        "(NEXUS_HARDENING_CHECKS=off), in turn",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    repo = args.repo.resolve()
    if args.normal_traffic is not None:
        other = args.normal_traffic.resolve()
        normal_traffic([(str(repo), repo, {}), (str(other), other, {})], args.rounds, 10.0)
        return
    if args.checks_off:
        off = {"NEXUS_HARDENING_CHECKS": "off"}
        normal_traffic([("checks on", repo, {}), ("checks off", repo, off)], args.rounds, 10.0)
        return
    with tempfile.TemporaryDirectory(prefix="nexus-hostile-") as directory:
        server = start(args.repo.resolve(), Path(directory))
        try:
            time.sleep(2)
            baseline = server.rss_mb()
            print(f"repo {args.repo}  load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            print(
                f"{'case':34} {'client got':40} {'time':>8} {'peak RSS':>9} "
                f"{'healthz p99':>11} {'max':>8}"
            )
            for name, run in cases(args.safe):
                if args.only and not any(part in name for part in args.only):
                    continue
                row = measure(server, run, args.timeout)
                print(
                    f"{name:34} {row['result'][:40]:40} {row['seconds']:7.2f}s "
                    f"{row['peak_rss_mb']:7.0f}MB {row['healthz_p99_ms']:9.1f}ms "
                    f"{row['healthz_max_ms']:6.0f}ms"
                    + (
                        f"  ({row['probe_failures']} probe failures)"
                        if row["probe_failures"]
                        else ""
                    )
                )
                sys.stdout.flush()
                if server.process.poll() is not None:
                    print("server died")
                    return
            after = server.rss_mb()
            time.sleep(5)
            print(
                f"RSS: {baseline:.0f} MB at start, {after:.0f} MB after the cases, "
                f"{server.rss_mb():.0f} MB after 5 s idle"
            )
        finally:
            server.process.kill()
            server.process.wait()


if __name__ == "__main__":
    main()
