"""What metrics and traces cost a request: the router's cross-subgraph query in-process, with
tracing off (`OTEL_SDK_DISABLED=true`), on without export (the default: spans only give log
lines their ids) and on with every span exported (an in-memory exporter behind the batch
processor, standing in for OTLP).

    PYTHONPATH=. python benchmarks/observability.py [--iterations 2000]

Each mode runs in its own process (a process has one tracer provider); metrics are recorded in
every mode. The figure is CPU time per request (the process's CPU time over the whole loop:
on a shared machine wall-clock time measures the neighbours), the modes taken in turn for
`--rounds` rounds; it prints each round and the median of rounds against tracing off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

MODES = ("off", "on, not exported", "on, exported")


async def _measure(mode: str, iterations: int) -> float:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from nexus.tracing import configure_tracing
    from tests.graph.support import router_over
    from tests.graph.test_entities import SCHEMAS, SHOP_QUERY

    # As the `nexus` commands configure it: off, or on with no exporter; with every span
    # exported, the SDK's provider and an in-memory exporter (every span made and recorded).
    if mode == "on, exported":
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
        trace.set_tracer_provider(provider)
    else:
        configure_tracing("nexus-benchmark", {"OTEL_SDK_DISABLED": str(mode == "off").lower()})
    router, _ = router_over(SCHEMAS)
    variables = {"first": 3}
    for _ in range(50):  # warm: plan cache, imports
        await router.execute(SHOP_QUERY, variables)
    start = time.process_time()
    for _ in range(iterations):
        await router.execute(SHOP_QUERY, variables)
    return (time.process_time() - start) / iterations


def _child(mode: str, iterations: int) -> None:
    print(json.dumps(asyncio.run(_measure(mode, iterations))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        _child(args.mode, args.iterations)
        return
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    print(f"router.execute, cross-subgraph query: CPU ms per request ({args.iterations} runs)")
    for round_number in range(args.rounds):
        for mode in MODES:
            output = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--iterations", str(args.iterations)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[mode].append(json.loads(output.strip().splitlines()[-1]))
        print(
            f"round {round_number + 1}: "
            + ", ".join(f"{mode} {results[mode][-1] * 1e3:.3f}" for mode in MODES)
        )
    baseline = statistics.median(results["off"])
    print(f"{'tracing':<20} {'CPU per request':>16} {'vs off':>8}")
    for mode, rounds in results.items():
        median = statistics.median(rounds)
        print(f"{mode:<20} {median * 1e3:>14.3f}ms {median / baseline:>7.2f}x")


if __name__ == "__main__":
    main()
