"""What the REST layer costs: a REST endpoint against the same persisted operation over /graphql.

    PYTHONPATH=. python benchmarks/rest.py [--seconds 10] [--concurrency 16] [--rounds 3]

One `nexus serve` process (demo data, a fresh data directory, NEXUS_DEMAND_CONTROL=measure so
the anonymous load is costed but not refused); for each question the REST GET
and the equivalent POST /graphql (the endpoint's own persisted document and variables) are
loaded in turn, `--rounds` times, at the same client load. The load comes from wrk when it is on
PATH (`apt-get install wrk`), else from a Python aiohttp client (which then says so: it spends
more CPU per request than the server, so on a small machine it measures itself).
Prints requests per second and latency for each, and the REST layer's cost in throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.procstat import cpu_seconds
from graph.rest.mapping import load_mapping

# (label, REST path, persisted operation, its variables)
QUESTIONS = [
    ("token + latest price", "/api/v1/tokens/BTC", "TokenBySymbol", {"symbol": "BTC"}),
    (
        "90 daily candles",
        "/api/v1/tokens/BTC/candles?from=2022-01-01&to=2022-03-31",
        "TokenCandles",
        {"symbol": "BTC", "from": "2022-01-01", "to": "2022-03-31"},
    ),
]

WRK_SCRIPT = """
METHOD_AND_BODY
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, failed))
end
"""

Run = tuple[float, float, float, int]  # requests per second, p50 ms, p95 ms, requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_wrk(url: str, body: dict[str, Any] | None, seconds: float, concurrency: int) -> Run:
    if body is None:
        request = ""
    else:
        request = (
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            'wrk.headers["Content-Type"] = "application/json"'
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.replace("METHOD_AND_BODY", request))
        script.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "-s", script.name, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    [line] = [line for line in output.splitlines() if line.startswith("RESULT ")]
    requests, duration, p50, p95, failed = line.split()[1:]
    assert int(failed) == 0, f"{failed} responses were not 200 or carried errors"
    return int(requests) / float(duration), float(p50), float(p95), int(requests)


def _load_python(url: str, body: dict[str, Any] | None, seconds: float, concurrency: int) -> Run:
    import aiohttp

    async def run() -> list[float]:
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    start = time.perf_counter()
                    if body is None:
                        async with session.get(url) as response:
                            await response.read()
                    else:
                        async with session.post(url, json=body) as response:
                            await response.read()
                    assert response.status == 200, response.status
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies

    ordered = sorted(asyncio.run(run()))
    p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
    return len(ordered) / seconds, p50 * 1e3, p95 * 1e3, len(ordered)


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEXUS_DATA_DIR": str(data_dir),
        "NEXUS_LOG_LEVEL": "WARNING",
        # Cost estimated and debited per request as in production, but an anonymous caller's
        # budget is not enforced: the load would otherwise measure 429s.
        "NEXUS_DEMAND_CONTROL": "measure",
    }
    command = [sys.executable, "-m", "nexus.assembly.cli", "serve", "--port", str(port)]
    log = data_dir / "serve.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600  # the first start loads the demo data
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"nexus serve exited: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("nexus serve did not become ready")


def main(seconds: float, concurrency: int, rounds: int) -> None:
    client = "wrk" if shutil.which("wrk") else "python (aiohttp; wrk not on PATH)"
    load = _load_wrk if client == "wrk" else _load_python
    endpoints = {e.operation.name: e for e in load_mapping().endpoints}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        server = _serve(Path(data_dir), port)
        try:
            print(
                f"client: {client}; {concurrency} connections, {seconds:g} s per run, "
                f"{rounds} rounds alternating REST and GraphQL; one `nexus serve` process"
            )
            print(
                f"{'question':<22} {'path':<8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'CPU ms/req':>10}"
            )
            for label, path, operation, variables in QUESTIONS:
                endpoint = endpoints[operation]
                body = {"query": endpoint.operation.text, "variables": variables}
                same = httpx.post(f"{base}/graphql", json=body).json()["data"]
                for step in endpoint.result:
                    same = same[step]
                assert httpx.get(base + path).json() == same, "REST and GraphQL differ"
                load(base + path, None, min(2.0, seconds), concurrency)  # warm-up
                load(f"{base}/graphql", body, min(2.0, seconds), concurrency)
                runs: dict[str, list[Run]] = {"REST": [], "GraphQL": []}
                cpu: dict[str, list[float]] = {"REST": [], "GraphQL": []}
                for _ in range(rounds):
                    for name, url, payload in (
                        ("REST", base + path, None),
                        ("GraphQL", f"{base}/graphql", body),
                    ):
                        before = cpu_seconds([server.pid])
                        run = load(url, payload, seconds, concurrency)
                        cpu[name].append((cpu_seconds([server.pid]) - before) / run[3] * 1e3)
                        runs[name].append(run)
                per_request = {}
                for name, samples in runs.items():
                    rps = statistics.median(s[0] for s in samples)
                    p50 = statistics.median(s[1] for s in samples)
                    p95 = statistics.median(s[2] for s in samples)
                    per_request[name] = statistics.median(cpu[name])
                    print(
                        f"{label:<22} {name:<8} {rps:>8.0f} {p50:>8.1f} {p95:>8.1f} "
                        f"{per_request[name]:>10.2f}"
                    )
                cost = 1 - per_request["GraphQL"] / per_request["REST"]
                print(
                    f"{label:<22} REST layer cost: {cost:+.1%} of the server's throughput "
                    "(from its CPU per request; target <= 10%)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    main(args.seconds, args.concurrency, args.rounds)
