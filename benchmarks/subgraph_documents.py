"""What parsing and validating each fetch document costs a Strawberry subgraph: the router's
cross-subgraph benchmark query (tests.graph.test_entities SHOP_QUERY: four subgraphs, three
entity jumps) in-process, over the test subgraphs as plain Strawberry schemas and over the same
schemas with the document caches our subgraphs use (`nexus.graphql_errors.SubgraphSchema`:
Strawberry's ParserCache and ValidationCache), interleaved; CPU time per query.

    PYTHONPATH=. .venv/bin/python benchmarks/subgraph_documents.py [--queries 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from graph.in_process import in_process_router
from graph.router import Router
from nexus.graphql_errors import DOCUMENT_CACHE_SIZE
from tests.graph.test_entities import SCHEMA_ARGS, SHOP_QUERY

VARIABLES = {"first": 3}


def shop_schemas(cached: bool) -> dict[str, strawberry.federation.Schema]:
    """The four test subgraphs of SHOP_QUERY; `cached`: with our subgraphs' document caches."""
    schemas = {}
    for name, args in SCHEMA_ARGS.items():
        arguments: dict[str, Any] = dict(args)
        if cached:
            arguments["extensions"] = [
                lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
                lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            ]
        schemas[name] = strawberry.federation.Schema(**arguments)
    return schemas


def _router(cached: bool) -> Router:
    return in_process_router(shop_schemas(cached))


async def _main(queries: int, rounds: int) -> None:
    routers = {"plain": _router(False), "document caches": _router(True)}
    answers = [await router.execute(SHOP_QUERY, VARIABLES) for router in routers.values()]
    assert all("errors" not in answer for answer in answers), answers
    assert answers[0]["data"] == answers[1]["data"]  # the same answer either way
    runs: dict[str, list[float]] = {name: [] for name in routers}
    for _ in range(rounds):
        for name, router in routers.items():
            started = time.process_time()
            for _ in range(queries):
                await router.execute(SHOP_QUERY, VARIABLES)
            runs[name].append((time.process_time() - started) / queries * 1e3)
    print(
        f"SHOP_QUERY in-process, CPU ms per query, {rounds} rounds x {queries} queries, "
        f"interleaved; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    plain = statistics.median(runs["plain"])
    for name, values in runs.items():
        median = statistics.median(values)
        line = f"  {name:<16} median {median:6.2f} ms (rounds {min(values):.2f}-{max(values):.2f})"
        if name != "plain":
            line += f"  {plain / median:4.1f}x less CPU than plain"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(_main(args.queries, args.rounds))


if __name__ == "__main__":
    main()
