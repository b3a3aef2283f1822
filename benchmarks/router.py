"""Router benchmarks: in-process overhead, the plan cache, and HTTP against Hive Gateway.

    PYTHONPATH=. python benchmarks/router.py [--iterations 2000]
    PYTHONPATH=. python benchmarks/router.py --http [--seconds 10] [--concurrency 32]

Overhead: the same cross-subgraph query (four subgraphs, three entity jumps) through the router,
against replaying the exact subgraph requests the router made, directly on the Strawberry schemas.
Plan cache: the first plan of an operation runs the pipeline; later runs are cache hits.
HTTP: the four subgraphs as separate uvicorn processes; our router (one uvicorn process) and
Hive Gateway (one Node process) in front of them, the same query at the same client load.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from graphql import parse, print_ast

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
    variables = {"first": 3}
    await router.execute(SHOP_QUERY, variables)
    recorded = list(transport.requests)

    async def through_router() -> None:
        await router.execute(SHOP_QUERY, variables)

    # Strawberry pops `__typename` from representations, so each replay gets fresh copies.
    replays = [copy.deepcopy(recorded) for _ in range(iterations)]

    async def direct() -> None:
        for service, query, subgraph_variables in replays.pop():
            result = await SCHEMAS[service].execute(query, variable_values=subgraph_variables)
            assert not result.errors, result.errors

    routed = await _timed(iterations, through_router)
    baseline = await _timed(iterations, direct)
    routed_ms, direct_ms = statistics.median(routed) * 1e3, statistics.median(baseline) * 1e3
    print(f"subgraph requests per query: {len(recorded)}")
    print(f"router (median)            : {routed_ms:.3f} ms")
    print(f"direct subgraphs (median)  : {direct_ms:.3f} ms")
    print(f"router overhead            : {100 * (routed_ms - direct_ms) / routed_ms:.1f}% of total")


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


def _serve_subgraph(name: str, port: int) -> None:
    import strawberry
    import uvicorn
    from strawberry.asgi import GraphQL

    from tests.graph.test_entities import SCHEMA_ARGS

    # Federation v2.9: the newest version Hive Gateway's composition reads.
    schema = strawberry.federation.Schema(**SCHEMA_ARGS[name], federation_version="2.9")
    app = GraphQL(schema, graphql_ide=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _serve_router(supergraph: str, port: int) -> None:
    import uvicorn

    from graph.gateway import create_app
    from graph.http_router import http_router

    app = create_app(http_router(supergraph), graphiql=False)
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


async def _load(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(url, json=body)
                assert response.status_code == 200 and "errors" not in response.json()
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _report(name: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1e3
    p95 = ordered[int(len(ordered) * 0.95)] * 1e3
    print(f"{name:<14} {len(ordered) / seconds:8.1f} req/s   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


def _measure(name: str, url: str, body: dict[str, Any], seconds: float, concurrency: int) -> None:
    asyncio.run(_load(url, body, min(2.0, seconds), concurrency))  # warm-up
    _report(name, asyncio.run(_load(url, body, seconds, concurrency)), seconds)


def compare_with_hive_gateway(seconds: float, concurrency: int) -> None:
    from graph.compose import SubgraphSDL, compose_supergraph
    from graph.in_process import subgraph_sdl
    from tests.graph.interop.npm import node_modules
    from tests.graph.interop.servers import free_port, hive_gateway

    context = multiprocessing.get_context("spawn")
    ports = {name: free_port() for name in SCHEMAS}
    processes = [context.Process(target=_serve_subgraph, args=(n, p)) for n, p in ports.items()]
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    subgraphs = [
        SubgraphSDL(name, urls[name], subgraph_sdl(schema)) for name, schema in SCHEMAS.items()
    ]
    supergraph = compose_supergraph(subgraphs)
    router_port = free_port()
    processes.append(context.Process(target=_serve_router, args=(supergraph, router_port)))
    body = {"query": SHOP_QUERY, "variables": {"first": 3}}
    with tempfile.TemporaryDirectory() as directory:
        supergraph_file = Path(directory) / "supergraph.graphql"
        supergraph_file.write_text(supergraph)
        for process in processes:
            process.start()
        try:
            for url in urls.values():
                _wait_until(url, {"query": "{ __typename }"})
            ours = f"http://127.0.0.1:{router_port}/graphql"
            _wait_until(f"http://127.0.0.1:{router_port}/healthz")
            print(f"query: SHOP_QUERY, {concurrency} concurrent clients, {seconds:g}s each")
            _measure("nexus router", ours, body, seconds, concurrency)
            for runtime in (False, True):
                log = Path(directory) / f"hive-{runtime}.log"
                name = "hive (router)" if runtime else "hive gateway"
                with hive_gateway(
                    node_modules(), supergraph_file, log, router_runtime=runtime
                ) as hive:
                    _measure(name, hive, body, seconds, concurrency)
        finally:
            for process in processes:
                process.terminate()
                process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--http", action="store_true", help="compare with Hive Gateway")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.http:
        compare_with_hive_gateway(args.seconds, args.concurrency)
        return
    asyncio.run(overhead(args.iterations))
    plan_cache(args.iterations)


if __name__ == "__main__":
    main()
