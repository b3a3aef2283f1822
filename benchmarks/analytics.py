"""Options analytics: 10,000 options (price and all Greeks) through /graphql, side by side.

    PYTHONPATH=. python benchmarks/analytics.py [--options 10000] [--runs 5]

Rows, all on the same 10,000 random European options (Black-Scholes-Merton, float64):
1. `/graphql` over HTTP: `nexus serve`'s app (the in-process router in front of the crypto
   subgraph) under uvicorn on 127.0.0.1, the options sent as `columns` (FloatColumn
   scalars), the eight result columns back as FloatColumns;
2. the same with the options sent as a list of `OptionInput` objects;
3. the same, also asking for one object per option (`options { price delta ... }`);
4. the crypto subgraph's schema executed directly (no HTTP, no router), columns;
5. the engine call alone (`engines.options.option_greeks`, validation included);
6. a Python loop over QuantLib's AnalyticEuropeanEngine (price, delta, gamma, vega, theta,
   rho: QuantLib's analytic engine has no vanna or volga, so it does less work).
Each figure is the median of `--runs` timed runs after one warm-up. The GraphQL share is the
part of the /graphql time not spent in the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import QuantLib as ql  # noqa: N813

# Run as a script, this folder comes first on sys.path and its engines.py would shadow the
# engines package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLUMNS = """query($columns: OptionColumnsInput!) {
  optionAnalytics(model: BLACK_SCHOLES_MERTON, columns: $columns) {
    count prices deltas gammas vegas thetas rhos vannas volgas
  }
}"""
LIST_IN = """query($options: [OptionInput!]!) {
  optionAnalytics(model: BLACK_SCHOLES_MERTON, options: $options) {
    count prices deltas gammas vegas thetas rhos vannas volgas
  }
}"""
OBJECTS = """query($options: [OptionInput!]!) {
  optionAnalytics(model: BLACK_SCHOLES_MERTON, options: $options) {
    options { price delta gamma vega theta rho vanna volga }
  }
}"""


def random_options(count: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "spots": rng.uniform(50, 150, count),
        "strikes": rng.uniform(50, 150, count),
        "expiries": rng.integers(7, 730, count) / 365.0,  # whole days, as QuantLib dates
        "volatilities": rng.uniform(0.1, 0.9, count),
        "rates": rng.uniform(0.0, 0.06, count),
        "dividends": rng.uniform(0.0, 0.03, count),
        "calls": rng.random(count) < 0.5,
    }


def as_columns(o: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        "columns": {
            "calls": o["calls"].tolist(), "strikes": o["strikes"].tolist(),
            "expiryYears": o["expiries"].tolist(), "underlyingPrices": o["spots"].tolist(),
            "volatilities": o["volatilities"].tolist(), "riskFreeRates": o["rates"].tolist(),
            "dividendYields": o["dividends"].tolist(),
        }
    }


def as_variables(o: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        "options": [
            {
                "right": "CALL" if call else "PUT", "strike": k, "expiryYears": t,
                "underlyingPrice": s, "volatility": v, "riskFreeRate": r, "dividendYield": q,
            }
            for s, k, t, v, r, q, call in zip(
                o["spots"].tolist(), o["strikes"].tolist(), o["expiries"].tolist(),
                o["volatilities"].tolist(), o["rates"].tolist(), o["dividends"].tolist(),
                o["calls"].tolist(), strict=True,
            )
        ]
    }


def engine_alone(o: dict[str, np.ndarray]) -> Any:
    from engines.options import option_greeks

    result = option_greeks(
        volatilities=o["volatilities"], strikes=o["strikes"], expiries=o["expiries"],
        spots=o["spots"], discount_rates=o["rates"], dividend_rates=o["dividends"],
        is_call_options=o["calls"],
    )
    return [np.asarray(x) for x in result]


def quantlib_loop(o: dict[str, np.ndarray]) -> list[tuple[float, ...]]:
    today = ql.Date(15, 11, 2022)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    calendar = ql.NullCalendar()
    results: list[tuple[float, ...]] = []
    for s, k, t, v, r, q, call in zip(
        o["spots"], o["strikes"], o["expiries"], o["volatilities"], o["rates"], o["dividends"],
        o["calls"], strict=True,
    ):
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(float(s))),
            ql.YieldTermStructureHandle(ql.FlatForward(today, float(q), day_count)),
            ql.YieldTermStructureHandle(ql.FlatForward(today, float(r), day_count)),
            ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, calendar, float(v),
                                                               day_count)),
        )
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, float(k))
        option = ql.VanillaOption(payoff, ql.EuropeanExercise(today + round(t * 365)))
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        results.append((option.NPV(), option.delta(), option.gamma(), option.vega(),
                        option.theta(), option.rho()))
    return results


def timed(runs: int, call: Callable[[], Any]) -> float:
    call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def timed_async(runs: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: str, port: int) -> Any:
    import uvicorn

    from nexus.assembly.app import create_app
    from nexus.config import Settings

    settings = Settings.from_env({"NEXUS_DATA_DIR": data_dir, "NEXUS_REPLAY": "off"})
    app = create_app(settings, ["crypto"], load_demo_on_start=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, app


async def main(count: int, runs: int) -> None:
    options = random_options(count)
    variables = as_variables(options)
    columns = as_columns(options)
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        server, app = start_server(data_dir, port)
        url = f"http://127.0.0.1:{port}/graphql"
        async with httpx.AsyncClient(timeout=120) as client:

            async def post(query: str, values: dict[str, Any]) -> dict[str, Any]:
                # orjson on the client too: Python's json spends more on 70,000 numbers than
                # the server does (a browser's JSON is native code).
                response = await client.post(
                    url, content=orjson.dumps({"query": query, "variables": values}),
                    headers={"content-type": "application/json"},
                )
                body: dict[str, Any] = orjson.loads(response.content)
                assert "errors" not in body, body.get("errors")
                return body

            check = await post(COLUMNS, columns)
            http_packed = await timed_async(runs, lambda: post(COLUMNS, columns))
            http_list = await timed_async(runs, lambda: post(LIST_IN, variables))
            http_objects = await timed_async(runs, lambda: post(OBJECTS, variables))

            from subgraphs.crypto import subgraph

            stores = app.state.stores

            async def direct() -> None:
                result = await subgraph.schema.execute(
                    COLUMNS, variable_values=columns, context_value=subgraph.make_context(stores)
                )
                assert not result.errors, result.errors

            in_process = await timed_async(runs, direct)
        server.should_exit = True

    engine = timed(runs, lambda: engine_alone(options))
    reference = engine_alone(options)
    quantlib_runs = max(1, runs // 3)
    quantlib = timed(quantlib_runs, lambda: quantlib_loop(options))
    ql_prices = np.array([row[0] for row in quantlib_loop(options)])
    served = np.array(check["data"]["optionAnalytics"]["prices"])
    assert np.allclose(served, reference[0], rtol=1e-12)
    agree = np.allclose(ql_prices, reference[0], rtol=1e-8, atol=1e-10)

    rows = [
        ("/graphql over HTTP, columns in and out", http_packed),
        ("/graphql, [OptionInput!] in, columns out", http_list),
        ("/graphql, [OptionInput!] in, objects out", http_objects),
        ("crypto subgraph schema, columns, in process", in_process),
        ("engine call alone (option_greeks)", engine),
        ("QuantLib loop (price + 5 Greeks)", quantlib),
    ]
    print(f"{count:,} options, price and all Greeks; median of {runs} runs "
          f"(QuantLib: {quantlib_runs}); cpu count {os.cpu_count()}")
    print(f"{'path':45} {'seconds':>9} {'vs QuantLib':>12}")
    for name, seconds in rows:
        print(f"{name:45} {seconds:9.4f} {quantlib / seconds:11.1f}x")
    share = (http_packed - engine) / http_packed
    print(f"GraphQL share of /graphql (columns): {100 * share:.0f}% "
          f"(engine {100 * engine / http_packed:.0f}%)")
    print(f"option objects in vs columns in: {http_list / http_packed:.1f}x slower; "
          f"objects out too: {http_objects / http_packed:.1f}x slower")
    print(f"target >= 3x faster than QuantLib end to end: "
          f"{'met' if quantlib / http_packed >= 3 else 'NOT met'} ({quantlib / http_packed:.1f}x)")
    print(f"/graphql prices equal the engine's: yes; QuantLib's agree to 1e-8: {agree}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.options, args.runs))
