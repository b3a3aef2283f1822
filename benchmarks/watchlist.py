"""Watchlist risk benchmark: 50 instruments through the router vs the engine vs a NumPy loop.

    .venv/bin/python -m benchmarks.watchlist [--rounds 5] [--instruments 50]

The demo holds 3 tokens and 5 stocks, so this benchmark adds SYNTHETIC stocks to a temporary
store (`SYN00`...: the real GME/AMC closes times a seeded random walk, never written to the
demo data) to make a watchlist of `--instruments` items (BTC, ETH, GME, AMC and the synthetic
ones), public, in a temporary SQLite platform store. Side by side, each the median of
`--rounds` runs after a warm-up run that compiles the jitted engine:

- graph: `watchlist(id) { risk { ... } }` through the in-process router (the `/graphql` path
  without HTTP): platform, then every item's `closeHistory` from crypto and micro, then
  platform's `_entities` with the histories and ONE `portfolio_risk` engine call;
- engine: `portfolio_risk` alone on the aligned returns [A, T];
- NumPy loop: the same figures in plain NumPy, one item at a time for the contributions and
  a pairwise loop for the correlation matrix (what a hand-written service would do).
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

import numpy as np
from scipy.stats import norm

from engines.risk import portfolio_risk
from graph.in_process import router_for_subgraphs
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore
from nexus.stores.platform import PlatformStore, upgrade
from nexus.stores.vectors import VectorStore
from subgraphs.crypto import subgraph as crypto
from subgraphs.crypto.demo import load_demo as load_crypto
from subgraphs.micro import subgraph as micro
from subgraphs.micro.ddl import DATABASE
from subgraphs.micro.demo import STOCKS, ensure_schema
from subgraphs.platform import catalogue
from subgraphs.platform import subgraph as platform
from subgraphs.platform.models import Organization, User, Watchlist, WatchlistItem

QUERY = """query($id: ID!) { watchlist(id: $id) { risk(from: "2020-01-01", to: "2021-12-31") {
  keys observations volatility historicalValueAtRisk normalValueAtRisk covariance correlation
  contributions { key volatilityContribution share } } } }"""
REAL = [("TOKEN", "BTC"), ("TOKEN", "ETH"), ("STOCK", "GME"), ("STOCK", "AMC")]


async def _median(rounds: int, run: Callable[[], Awaitable[Any]]) -> float:
    await run()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def _synthetic_stocks(store: ChdbStore, count: int) -> list[str]:
    """SYNnn: real GME/AMC closes times a seeded random walk (benchmark-only, synthetic)."""
    from subgraphs.micro.demo import DEMO_DATA, _read_csv

    columns, rows = _read_csv(DEMO_DATA / "stock_candles.csv.gz")
    base = {s: [r for r in rows if r[0] == s] for s in ("GME", "AMC")}
    await store.insert(f"{DATABASE}.candles", columns,
                       [[r[0], r[1], *map(float, r[2:])] for r in base["GME"] + base["AMC"]])
    rng = np.random.default_rng(7)
    symbols = [f"SYN{i:02d}" for i in range(count)]
    candles: list[list[Any]] = []
    for i, symbol in enumerate(symbols):
        source = base["GME" if i % 2 else "AMC"]
        walk = np.exp(np.cumsum(rng.normal(0, 0.02, len(source))))
        for row, factor in zip(source, walk, strict=True):
            values = [float(v) * float(factor) for v in row[2:6]]
            candles.append([symbol, row[1], *values, float(row[6])])
    await store.insert(f"{DATABASE}.candles", columns, candles)
    names = [[s, "Synthetic (benchmark only)"] for s in symbols]
    names += [[s, name] for s, name in STOCKS if s in base]
    await store.insert(f"{DATABASE}.stocks", ["symbol", "name"], names)
    return symbols


async def _watchlist(store: PlatformStore, items: list[tuple[str, str]]) -> str:
    await catalogue.learn(store, items)  # type: ignore[arg-type]
    async with store.sessions.begin() as session:
        org = Organization(name="Bench", slug="bench")
        session.add(org)
        await session.flush()
        user = User(email="bench@example.com", display_name="Bench", password_hash="-",
                    organization_id=org.id)
        session.add(user)
        await session.flush()
        watchlist = Watchlist(owner_id=user.id, organization_id=org.id, public=True,
                              name="Fifty")
        session.add(watchlist)
        await session.flush()
        for position, (kind, key) in enumerate(items):
            session.add(WatchlistItem(watchlist_id=watchlist.id, kind=kind, key=key,
                                      position=position))
        return str(watchlist.id)


def numpy_loop(returns: np.ndarray, weights: np.ndarray, level: float) -> dict[str, Any]:
    """The same figures without the engine: NumPy, item by item where a person would loop."""
    assets = returns.shape[0]
    cov = np.cov(returns)
    corr = np.empty((assets, assets))
    for i in range(assets):
        for j in range(assets):
            corr[i, j] = np.corrcoef(returns[i], returns[j])[0, 1]
    vol = float(np.sqrt(weights @ cov @ weights))
    contributions = [float(weights[i] * (cov[i] @ weights) / vol) for i in range(assets)]
    losses = -(weights @ returns)
    var = float(np.percentile(losses, 100 * level))
    mean_loss = -float(weights @ returns.mean(axis=1))
    return {
        "cov": cov, "corr": corr, "vol": vol, "contributions": contributions,
        "hvar": var, "hes": float(losses[losses >= var].mean()),
        "nvar": mean_loss + norm.ppf(level) * vol,
    }


async def main(rounds: int, instruments: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        analytics = ChdbStore(root / "chdb")
        await load_crypto(analytics)
        vectors = VectorStore(root / "vectors.db")
        await ensure_schema(analytics, vectors)
        synthetic = await _synthetic_stocks(analytics, instruments - len(REAL))
        url = f"sqlite:///{root / 'platform.db'}"
        await upgrade(url)
        store = PlatformStore.from_url(url)
        items = REAL + [("STOCK", s) for s in synthetic]
        watchlist_id = await _watchlist(store, items)
        stores = Stores(settings=Settings.from_env({"NEXUS_DATA_DIR": directory}),
                        platform=store, analytics=analytics, vectors=vectors)
        router = router_for_subgraphs([platform, crypto, micro], stores)

        answer: dict[str, Any] = {}

        async def graph() -> None:
            response = await router.execute(QUERY, {"id": watchlist_id})
            assert "errors" not in response, response.get("errors")
            answer.update(response["data"]["watchlist"]["risk"])

        through_graph = await _median(rounds, graph)
        # The aligned returns the field used, rebuilt from the same store (as platform did).
        histories = await router.execute(
            "query($s: String!) { stock(symbol: $s) { closeHistory { dates closes } } "
            "token(symbol: $s) { closeHistory { dates closes } } }", {"s": "BTC"})
        assert histories["data"]["token"]["closeHistory"]["dates"]
        series = {}
        for _, key in items:
            data = (await router.execute(
                "query($s: String!) { stock(symbol: $s) { closeHistory { dates closes } } "
                "token(symbol: $s) { closeHistory { dates closes } } }", {"s": key}))["data"]
            history = (data["token"] or data["stock"])["closeHistory"]
            series[key] = dict(zip(history["dates"], history["closes"], strict=True))
        days = sorted(
            d for d in set.intersection(*(set(s) for s in series.values()))
            if "2020-01-01" <= d <= "2021-12-31"
        )
        prices = np.array([[series[k][d] for d in days] for _, k in items])
        returns = prices[:, 1:] / prices[:, :-1] - 1
        weights = np.full(len(items), 1 / len(items))

        async def engine() -> None:
            result = portfolio_risk(returns=returns, weights=weights, confidence_level=0.99)
            np.asarray(result.correlations)  # wait for the device

        async def loop() -> None:
            numpy_loop(returns, weights, 0.99)

        engine_alone = await _median(rounds, engine)
        baseline = await _median(rounds, loop)
        check = numpy_loop(returns, weights, 0.99)
        assert np.allclose(answer["covariance"], check["cov"].reshape(-1), rtol=1e-9)
        assert np.isclose(answer["volatility"], check["vol"], rtol=1e-9)
        await store.close()
        await analytics.close()

    print(f"watchlist risk: {len(items)} instruments ({len(synthetic)} synthetic stocks), "
          f"{returns.shape[1]} daily returns each, median of {rounds} runs")
    print(f"{'path':<44}{'seconds':>10}")
    print(f"{'graph (router, 3 subgraphs, 1 engine call)':<44}{through_graph:>10.4f}")
    print(f"{'engine alone (portfolio_risk, jitted)':<44}{engine_alone:>10.4f}")
    print(f"{'NumPy loop baseline':<44}{baseline:>10.4f}")
    print(f"engine vs NumPy loop: {baseline / engine_alone:.1f}x; the engine is "
          f"{engine_alone / through_graph:.1%} of the graph request (the rest: fetching 50 "
          "histories through the router, aligning them, GraphQL)")
    print(f"answer agrees with the NumPy loop (covariance, volatility); checked {dt.date.today()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instruments", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.instruments))
