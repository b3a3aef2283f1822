"""Router benchmarks: in-process overhead, the plan cache, and HTTP against Hive Gateway.

    PYTHONPATH=. python benchmarks/router.py [--iterations 2000]
    PYTHONPATH=. python benchmarks/router.py --http [--seconds 10] [--concurrency 32] [--rounds 3]
        [--router-workers 1] [--hive-fork 1] [--client wrk|python]

Overhead: the same cross-subgraph query (four subgraphs, three entity jumps) through the router,
against replaying the exact subgraph requests the router made, directly on the Strawberry schemas,
and through the same router with the hardening checks off (NEXUS_HARDENING_CHECKS=off: no request
limits, no input checks), the three in turn.
Plan cache: the first plan of an operation runs the pipeline; later runs are cache hits.
HTTP: the four subgraphs as separate uvicorn processes; `nexus router --supergraph FILE` (with
`--router-workers` processes; entity cache off, then on) and Hive Gateway (`--hive-fork`
processes, on its own planner and on Hive Router's) in front of them, the same query at the same
client load, each gateway measured in turn for `--rounds` rounds: requests/s, p50 and p99.
Cold plan: the planner's time for a 40-field query over the four subgraphs with nothing cached.
The load comes from wrk when it is on PATH (`apt-get install wrk`): a Python client spends more
CPU per request than either gateway, so on a small machine it measures itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from graphql import parse, print_ast

from graph.limits import RequestLimits
from graph.planner import QueryPlanner
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS, SHOP_QUERY


async def _timed(calls: int, run: Any) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - start)
    return samples


async def overhead(iterations: int) -> None:
    router, transport = router_over(SCHEMAS)
    # The same router with the hardening checks off (request limits, input checks), as
    # NEXUS_HARDENING_CHECKS=off builds it: what the checks cost this query, side by side.
    unchecked, _ = router_over(
        SCHEMAS, limits=RequestLimits.from_env({"NEXUS_HARDENING_CHECKS": "off"})
    )
    unchecked.check_inputs = False
    variables = {"first": 3}
    await router.execute(SHOP_QUERY, variables)
    await unchecked.execute(SHOP_QUERY, variables)
    recorded = list(transport.requests)

    async def through_router() -> None:
        await router.execute(SHOP_QUERY, variables)

    async def unchecked_router() -> None:
        await unchecked.execute(SHOP_QUERY, variables)

    # Strawberry pops `__typename` from representations, so each replay gets fresh copies.
    replays = [copy.deepcopy(recorded) for _ in range(iterations)]

    async def direct() -> None:
        for service, query, subgraph_variables in replays.pop():
            result = await SCHEMAS[service].execute(query, variable_values=subgraph_variables)
            assert not result.errors, result.errors

    routed: list[float] = []
    routed_unchecked: list[float] = []
    baseline: list[float] = []
    chunk = max(1, iterations // 10)  # in turn, so that drift in the machine's load hits all
    for _ in range(iterations // chunk):
        routed += await _timed(chunk, through_router)
        routed_unchecked += await _timed(chunk, unchecked_router)
        baseline += await _timed(chunk, direct)
    routed_ms, direct_ms = statistics.median(routed) * 1e3, statistics.median(baseline) * 1e3
    unchecked_ms = statistics.median(routed_unchecked) * 1e3
    print(f"subgraph requests per query: {len(recorded)} (load {os.getloadavg()[0]:.1f})")
    print(f"router (median)            : {routed_ms:.3f} ms")
    print(f"router, checks off (median): {unchecked_ms:.3f} ms")
    print(f"direct subgraphs (median)  : {direct_ms:.3f} ms")
    print(f"router overhead            : {100 * (routed_ms - direct_ms) / routed_ms:.1f}% of total")
    print(
        f"hardening checks           : {100 * (routed_ms - unchecked_ms) / routed_ms:.1f}% of "
        f"the router's time (throughput with them: {unchecked_ms / routed_ms:.3f}x)"
    )


def plan_cache(iterations: int) -> None:
    router, _ = router_over(SCHEMAS)
    planner = QueryPlanner(router.supergraph)
    document = parse(SHOP_QUERY)
    text = print_ast(document)  # the router keeps this beside its parsed-document cache
    start = time.perf_counter()
    planner.plan(document, document_text=text)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(iterations):
        planner.plan(document, document_text=text)
    warm = (time.perf_counter() - start) / iterations
    print(f"first plan                 : {cold * 1e3:.3f} ms (pipeline ran)")
    print(f"cached plan (mean)         : {warm * 1e6:.1f} us")
    print(f"plans built / cache hits   : {planner.plans_built} / {planner.cache_hits}")


# Forty leaf fields over all four subgraphs: five aliased product lists, each with catalogue,
# inventory (@requires) and review fields, and the reviews' authors from accounts.
FORTY_FIELDS = (
    "{\n"
    + "".join(
        f"  p{n}: topProducts(first: {n + 1}) {{ upc name price weight inStock shippingEstimate "
        "reviews { body author { username name } } }\n"
        for n in range(4)
    )
    + "  me { name username }\n  p4: topProducts(first: 5) { upc name }\n}"
)


def cold_plans(samples: int) -> None:
    """A cold plan (a new planner: nothing cached) of the 40-field cross-subgraph query."""
    router, _ = router_over(SCHEMAS)
    document = parse(FORTY_FIELDS)
    text = print_ast(document)
    timings = []
    for _ in range(samples):
        planner = QueryPlanner(router.supergraph)
        start = time.perf_counter()
        plan = planner.plan(document, document_text=text)
        timings.append(time.perf_counter() - start)
    fetches = str(plan).count("Fetch(")
    ordered = sorted(timings)
    print(
        f"cold plan, 40 fields over 4 subgraphs ({fetches} fetches): median "
        f"{statistics.median(timings) * 1e3:.2f} ms, min {ordered[0] * 1e3:.2f} ms, "
        f"max {ordered[-1] * 1e3:.2f} ms over {samples} plans"
    )


def _serve_subgraph(name: str, port: int) -> None:
    import strawberry
    import uvicorn
    from strawberry.asgi import GraphQL

    from tests.graph.test_entities import SCHEMA_ARGS

    # Federation v2.9: the newest version Hive Gateway's composition reads.
    schema = strawberry.federation.Schema(**SCHEMA_ARGS[name], federation_version="2.9")
    app = GraphQL(schema, graphql_ide=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _wait_until(url: str, body: dict[str, Any] | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = httpx.post(url, json=body) if body else httpx.get(url)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {seconds:g}s")


Run = tuple[float, float, float]  # requests per second, p50 ms, p99 ms

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = BODY
wrk.headers["Content-Type"] = "application/json"
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
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, failed))
end
"""


def _load_wrk(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> Run:
    """wrk (C) keeps `concurrency` connections busy, using little CPU itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.replace("BODY", json.dumps(json.dumps(body))))
        script.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "-s", script.name, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    [line] = [line for line in output.splitlines() if line.startswith("RESULT ")]
    requests, duration, p50, p99, failed = line.split()[1:]
    assert int(failed) == 0, f"{failed} responses were not 200 or carried errors"
    return int(requests) / float(duration), float(p50), float(p99)


def _load_python(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> Run:
    """Python coroutines over one aiohttp session: about 1-3 ms of CPU per request, so on a small
    machine this client, not the gateway, may be what saturates."""
    import aiohttp

    async def run() -> list[float]:
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    start = time.perf_counter()
                    async with session.post(url, json=body) as response:
                        answer = await response.json()
                    assert response.status == 200 and "errors" not in answer, answer
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies

    ordered = sorted(asyncio.run(run()))
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    return len(ordered) / seconds, p50 * 1e3, p99 * 1e3


def _measure(url: str, body: dict[str, Any], seconds: float, concurrency: int, client: str) -> Run:
    load = _load_wrk if client == "wrk" else _load_python
    load(url, body, min(2.0, seconds), concurrency)  # warm-up
    return load(url, body, seconds, concurrency)


def compare_with_hive_gateway(
    seconds: float, concurrency: int, rounds: int, client: str, workers: int, hive_forks: int
) -> None:
    from graph.compose import SubgraphSDL, compose_supergraph
    from graph.in_process import subgraph_sdl
    from tests.graph.interop.npm import node_modules
    from tests.graph.interop.servers import free_port, hive_gateway
    from tests.support.processes import NexusProcess

    context = multiprocessing.get_context("spawn")
    ports = {name: free_port() for name in SCHEMAS}
    processes = [context.Process(target=_serve_subgraph, args=(n, p)) for n, p in ports.items()]
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    subgraphs = [
        SubgraphSDL(name, urls[name], subgraph_sdl(schema)) for name, schema in SCHEMAS.items()
    ]
    body = {"query": SHOP_QUERY, "variables": {"first": 3}}
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        supergraph_file = Path(directory) / "supergraph.graphql"
        supergraph_file.write_text(compose_supergraph(subgraphs))
        for process in processes:
            process.start()
            stack.callback(process.join, 10)
            stack.callback(process.terminate)
        for url in urls.values():
            _wait_until(url, {"query": "{ __typename }"})
        # The router as deployed: `nexus router --supergraph FILE --workers N`, entity cache
        # off, then on (NEXUS_ENTITY_CACHE=on: repeated entities come from its in-process LRU).
        targets: dict[str, str] = {}
        for name, cache in (("nexus router", "off"), ("nexus router +cache", "on")):
            router = NexusProcess(
                ["router", "--supergraph", str(supergraph_file), "--workers", str(workers)],
                Path(directory) / f"nexus-{cache}",
                "router",
                # No demand control: Hive Gateway runs none, and the anonymous plan's budget
                # (1,000 cost units a minute) would refuse the load within a second.
                env={"NEXUS_ENTITY_CACHE": cache, "NEXUS_DEMAND_CONTROL": "off"},
            )
            stack.callback(router.stop)
            router.wait("/healthz", 90)
            targets[name] = f"{router.url}/graphql"
        for name, runtime in (("hive gateway", False), ("hive (router)", True)):
            log = Path(directory) / f"{name}.log"
            targets[name] = stack.enter_context(
                hive_gateway(
                    node_modules(),
                    supergraph_file,
                    log,
                    router_runtime=runtime,
                    extra_args=["--fork", str(hive_forks)] if hive_forks > 1 else [],
                )
            )
        answers = [httpx.post(url, json=body, timeout=30).json() for url in targets.values()]
        assert all(
            answer.get("data") == answers[0]["data"] and "errors" not in answer
            for answer in answers
        ), answers

        print(
            f"query: SHOP_QUERY, {concurrency} concurrent connections, {seconds:g}s per run, "
            f"{rounds} rounds in turn, client: {client}; nexus router: {workers} worker "
            f"process(es), Hive Gateway: {hive_forks} process(es); machine: "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
        )
        runs: dict[str, list[Run]] = {name: [] for name in targets}
        names = list(targets)
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                runs[name].append(_measure(targets[name], body, seconds, concurrency, client))
                print(f"  {name:<22} " + _format(runs[name][-1]), flush=True)
        print("medians:")
        for name, measured in runs.items():
            rates, p50s, p99s = zip(*measured, strict=True)
            medians = (statistics.median(rates), statistics.median(p50s), statistics.median(p99s))
            print(f"  {name:<22} " + _format(medians))
        hive = statistics.median(r for r, _, _ in runs["hive gateway"])
        for name in names:
            if name.startswith("nexus"):
                ours = statistics.median(r for r, _, _ in runs[name])
                print(f"  {name} / hive gateway: {ours / hive:.2f}x requests per second")


def _format(run: Run) -> str:
    rate, p50, p99 = run
    return f"{rate:8.1f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--http", action="store_true", help="compare with Hive Gateway")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each gateway, in turn")
    parser.add_argument(
        "--router-workers", type=int, default=1, help="`nexus router --workers` (processes)"
    )
    parser.add_argument(
        "--hive-fork", type=int, default=1, help="Hive Gateway's `--fork` (processes)"
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when it is on PATH)",
    )
    args = parser.parse_args()
    if args.http:
        cold_plans(20)
        compare_with_hive_gateway(
            args.seconds,
            args.concurrency,
            args.rounds,
            args.client,
            args.router_workers,
            args.hive_fork,
        )
        return
    asyncio.run(overhead(args.iterations))
    plan_cache(args.iterations)
    cold_plans(50)


if __name__ == "__main__":
    main()
