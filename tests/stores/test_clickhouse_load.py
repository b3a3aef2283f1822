"""The ClickHouse-server path under concurrent load: the macro subgraph reading through the real
clickhouse-connect client (its worker threads sharing one client) while writers insert.

The server is the chDB-backed ClickHouse HTTP interface of tests/support; each answer is
compared with the same query run on chDB directly, so a response mixed up between concurrent
requests (one client shared by threads) or a lost insert fails the test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from nexus.assembly.registry import load_subgraph
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore, ClickHouseServerStore
from tests.support.clickhouse_http import serve_clickhouse_http
from tests.support.graphql import execute

QUERIES = [
    *(
        f'{{ series(id: "{series}") {{ id title latest {{ date value }} '
        f'observations(from: "{start}", to: "{end}") {{ date value }} }} }}'
        for series in ("DGS10", "DGS2", "FEDFUNDS", "WALCL")
        for start, end in (("2024-01-01", "2024-03-31"), ("2020-01-01", "2020-12-31"))
    ),
    "{ allSeries { id units frequency } }",
]


@pytest.fixture(scope="module")
def clickhouse_url(analytics: ChdbStore) -> Iterator[str]:
    with serve_clickhouse_http(analytics) as url:
        yield url


async def test_concurrent_reads_through_clickhouse_connect_match_chdb(
    analytics: ChdbStore, clickhouse_url: str
) -> None:
    macro = load_subgraph("macro")
    settings = Settings.from_env()
    direct = Stores(settings=settings, analytics=analytics)
    server = ClickHouseServerStore(clickhouse_url)
    over_http = Stores(settings=settings, analytics=server)
    try:
        expected = [await execute(macro, direct, query) for query in QUERIES]
        assert all("errors" not in answer for answer in expected)
        rounds = 4  # 36 requests in flight at once, on the client's 4 worker threads
        answers = await asyncio.wait_for(
            asyncio.gather(*(execute(macro, over_http, q) for _ in range(rounds) for q in QUERIES)),
            timeout=120,
        )
        assert answers == expected * rounds
        assert server.round_trips >= len(answers)
    finally:
        await server.close()


async def test_concurrent_inserts_through_clickhouse_connect_all_land(
    analytics: ChdbStore, clickhouse_url: str
) -> None:
    table = f"scratch.load_{uuid.uuid4().hex[:8]}"
    server = ClickHouseServerStore(clickhouse_url)
    try:
        await server.command("CREATE DATABASE IF NOT EXISTS scratch")
        await server.command(
            f"CREATE TABLE {table} (writer UInt32, n UInt32, value Float64) "
            "ENGINE = MergeTree ORDER BY (writer, n)"
        )

        async def write(writer: int) -> None:
            rows = [[writer, n, writer + n / 100] for n in range(50)]
            await server.insert(table, ["writer", "n", "value"], rows)

        async def read() -> int:
            rows = await server.query(f"SELECT count() AS rows FROM {table}")
            return int(rows[0]["rows"])

        # Twenty writers and twenty readers at once: reads see whole inserts only.
        results = await asyncio.wait_for(
            asyncio.gather(*(write(w) for w in range(20)), *(read() for _ in range(20))),
            timeout=120,
        )
        assert all(isinstance(count, int) and count % 50 == 0 for count in results[20:])
        totals = await server.query(
            f"SELECT count() AS rows, uniqExact(writer) AS writers, sum(value) AS total "
            f"FROM {table}"
        )
        assert totals[0]["rows"] == 1000
        assert totals[0]["writers"] == 20
        expected = sum(w + n / 100 for w in range(20) for n in range(50))
        assert totals[0]["total"] == pytest.approx(expected)
    finally:
        await server.command(f"DROP TABLE IF EXISTS {table}")
        await server.close()
