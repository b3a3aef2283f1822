"""Router benchmarks: in-process overhead and the plan cache.

    PYTHONPATH=. python benchmarks/router.py [--iterations 2000]

Overhead: the same cross-subgraph query (four subgraphs, three entity jumps) through the router,
against replaying the exact subgraph requests the router made, directly on the Strawberry schemas.
Plan cache: the first plan of an operation runs the pipeline; later runs are cache hits.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import statistics
import time
from typing import Any

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(overhead(args.iterations))
    plan_cache(args.iterations)


if __name__ == "__main__":
    main()
