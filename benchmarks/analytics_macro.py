"""Macro analytics benchmark: a year of daily curve fits through /graphql vs the engines alone.

    .venv/bin/python -m benchmarks.analytics_macro [--rounds 7]

One request asks `yieldCurves(from, to)` for every business day of 2024 (250 curves) with a
Svensson fit evaluated at ten tenors and the bootstrapped curve; it goes through the whole app
(`/graphql`: router, macro subgraph, DataLoaders, chDB, the engines). Beside it, the same work
without GraphQL: the subgraph's batch functions on the same par curves (bootstrap, fit,
evaluation: what the loaders run on their worker thread), and the Svensson fit engine alone on
the prepared [250, 13] zero-rate matrix. Every timing is the median of `--rounds` runs after a
warm-up run that compiles the jitted functions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from engines import rates
from nexus.assembly.app import create_app
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from subgraphs.macro import curves
from subgraphs.macro.analytics import par_curve
from subgraphs.macro.curve_types import STANDARD_TENORS
from subgraphs.macro.demo import load_demo
from subgraphs.macro.repository import MacroRepository

QUERY = """
query($from: Date!, $to: Date!) {
  yieldCurves(from: $from, to: $to) {
    date
    fit(model: SVENSSON) { rmseBp parameters { beta0Percent tau1Years } zeroRates forwardRates }
    bootstrapped { zeroRates }
  }
}
"""
YEAR = {"from": "2024-01-01", "to": "2024-12-31"}


async def _median(rounds: int, run: Callable[[], Awaitable[Any]]) -> float:
    await run()  # warm-up: compiles the jitted functions for these shapes
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = ChdbStore(Path(directory))
        await load_demo(store)
        records = await MacroRepository(store).par_curves_between(
            dt.date.fromisoformat(YEAR["from"]), dt.date.fromisoformat(YEAR["to"])
        )
        pars = [par_curve(r) for r in records]

        async def batch_functions() -> None:
            zero = curves.bootstrap_curves(pars)
            fits = curves.fit_curves(zero, curves.CurveModel.SVENSSON)
            curves.evaluate_fits([f.parameters for f in fits], STANDARD_TENORS)

        # First: its warm-up compiles the shapes the request needs too (a first compilation
        # of the fit can outlast the router's 30 s subgraph timeout on a busy machine).
        subgraph_work = await _median(rounds, batch_functions)
        observed = np.stack([z.tenor_zero_rates for z in curves.bootstrap_curves(pars)])
        padded = curves.pad_rows(observed)

        async def fit_alone() -> None:
            rates.fit_nelson_siegel_svensson(
                times=curves.PAR_YEARS, yields=padded
            ).parameters.block_until_ready()

        engine = await _median(rounds, fit_alone)

        settings = Settings.from_env({})
        stores = Stores(settings=settings, analytics=store)
        app = create_app(settings, ["macro"], stores=stores, load_demo_on_start=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def through_graphql() -> None:
                response = await client.post("/graphql", json={"query": QUERY, "variables": YEAR})
                body = response.json()
                assert "errors" not in body and len(body["data"]["yieldCurves"]) == 250, body

            graphql = await _median(rounds, through_graphql)
        await store.close()

    print(f"A year of daily Treasury curve fits ({len(pars)} dates), median of {rounds} runs:")
    print(f"{'path':<58} {'ms':>9} {'vs engine':>10}")
    for label, seconds in (
        ("/graphql: yieldCurves { fit bootstrapped } (one request)", graphql),
        ("subgraph batch functions (bootstrap + fit + evaluate)", subgraph_work),
        ("fit_nelson_siegel_svensson alone ([256, 13] padded)", engine),
    ):
        print(f"{label:<58} {1000 * seconds:>9.1f} {seconds / engine:>9.2f}x")
    print(
        "GraphQL, store and loader share of the request: "
        f"{100 * (1 - subgraph_work / graphql):.0f}%"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
