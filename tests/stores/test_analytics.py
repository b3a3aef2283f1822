"""Both analytics adapters speak the same SQL and return the same Python values.

The ClickHouse-server path runs the real clickhouse-connect client against an HTTP server that
answers the ClickHouse HTTP interface from the process's chDB engine (tests/support).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn

from nexus.errors import StoreUnavailable
from nexus.stores.analytics import AnalyticsStore, ChdbStore, ClickHouseServerStore, open_analytics
from tests.support.clickhouse_http import ClickHouseHttp


@pytest.fixture(scope="module")
def clickhouse_url(analytics: ChdbStore) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            ClickHouseHttp(analytics), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(params=["chdb", "clickhouse-connect"])
async def store(
    request: pytest.FixtureRequest, analytics: ChdbStore, clickhouse_url: str
) -> AsyncIterator[AnalyticsStore]:
    if request.param == "chdb":
        yield analytics
        return
    server_store = ClickHouseServerStore(clickhouse_url)
    yield server_store
    await server_store.close()


async def test_ddl_insert_and_parameterised_query_round_trip(store: AnalyticsStore) -> None:
    table = f"scratch_{uuid.uuid4().hex[:8]}"
    await store.command("CREATE DATABASE IF NOT EXISTS scratch")
    await store.command(
        f"CREATE TABLE scratch.{table} (symbol String, day Date, at DateTime64(3, 'UTC'), "
        "price Float64, tags Array(String)) ENGINE = MergeTree ORDER BY (symbol, day)"
    )
    awkward = "tab\there, newline\nthere, quote ' and backslash \\"
    at = dt.datetime(2021, 1, 27, 14, 30, 5, tzinfo=dt.UTC)
    await store.insert(
        f"scratch.{table}",
        ["symbol", "day", "at", "price", "tags"],
        [
            ["GME", dt.date(2021, 1, 27), at, 347.51, ["meme", "squeeze"]],
            [awkward, dt.date(2021, 1, 28), at, 193.6, []],
        ],
    )
    rows = await store.query(
        f"SELECT symbol, day, at, price, tags FROM scratch.{table} "
        "WHERE day >= {since:Date} AND symbol IN {symbols:Array(String)} ORDER BY day",
        {"since": dt.date(2021, 1, 27), "symbols": ["GME", awkward]},
    )
    assert rows == [
        {
            "symbol": "GME",
            "day": dt.date(2021, 1, 27),
            "at": at,
            "price": 347.51,
            "tags": ["meme", "squeeze"],
        },
        {"symbol": awkward, "day": dt.date(2021, 1, 28), "at": at, "price": 193.6, "tags": []},
    ]
    await store.command(f"DROP TABLE scratch.{table}")


async def test_each_call_counts_one_round_trip(store: AnalyticsStore) -> None:
    before = store.round_trips
    await store.query("SELECT 1 AS one")
    await store.query("SELECT count() AS n FROM macro.series")
    assert store.round_trips - before == 2


async def test_both_adapters_see_the_same_demo_data(store: AnalyticsStore) -> None:
    rows = await store.query(
        "SELECT date, value FROM macro.observations WHERE series_id = {id:String} "
        "AND date BETWEEN {a:Date} AND {b:Date} ORDER BY date",
        {"id": "DGS10", "a": dt.date(2024, 1, 2), "b": dt.date(2024, 1, 4)},
    )
    assert rows == [
        {"date": dt.date(2024, 1, 2), "value": 3.95},
        {"date": dt.date(2024, 1, 3), "value": 3.91},
        {"date": dt.date(2024, 1, 4), "value": 3.99},
    ]


async def test_a_server_that_is_down_is_store_unavailable_without_its_address() -> None:
    store = ClickHouseServerStore("http://reader:s3cret@127.0.0.1:1", connect_timeout=1)
    with pytest.raises(StoreUnavailable) as raised:
        await store.query("SELECT 1")
    assert raised.value.extensions == {"code": "STORE_UNAVAILABLE", "store": "analytics"}
    assert "s3cret" not in str(raised.value) and "127.0.0.1" not in str(raised.value)
    await store.close()


def test_the_url_picks_the_adapter(tmp_path: object) -> None:
    assert isinstance(open_analytics("chdb:///tmp/somewhere"), ChdbStore)
    assert isinstance(open_analytics("http://127.0.0.1:8123"), ClickHouseServerStore)
    with pytest.raises(ValueError, match="chdb://PATH"):
        open_analytics("mysql://x")


async def test_insert_select_says_how_many_rows_it_wrote(store: AnalyticsStore) -> None:
    table = f"scratch.written_{uuid.uuid4().hex[:8]}"
    await store.command("CREATE DATABASE IF NOT EXISTS scratch")
    await store.command(f"CREATE TABLE {table} (n UInt64) ENGINE = MergeTree ORDER BY n")
    first = await store.insert_select(
        f"INSERT INTO {table} SELECT number FROM numbers({{count:UInt64}})", {"count": 5}
    )
    again = await store.insert_select(
        f"INSERT INTO {table} SELECT number FROM numbers(7) WHERE number NOT IN "
        f"(SELECT n FROM {table})"
    )
    assert (first, again) == (5, 2)
    assert await store.query(f"SELECT count() AS n FROM {table}") == [{"n": 7}]
    await store.command(f"DROP TABLE {table}")


async def test_a_large_insert_goes_as_columns_and_stores_what_text_stores(
    analytics: ChdbStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chDB takes a large insert as Arrow columns (`ARROW_MIN_VALUES`), a small one or one with
    a value Arrow cannot carry as text: every way stores the same values, NULLs, awkward
    characters, dates and times included."""
    from nexus.stores import analytics as module

    await analytics.command("CREATE DATABASE IF NOT EXISTS scratch")
    columns = ["symbol", "day", "at", "price", "volume", "trades", "maker", "note"]
    awkward = "tab\there, newline\nthere, quote ' and backslash \\"
    start = dt.datetime(2021, 1, 27, 14, 30, 5, tzinfo=dt.UTC)
    rows = [
        [
            "GME" if i % 2 else awkward,
            dt.date(2021, 1, 1) + dt.timedelta(days=i % 400),
            start + dt.timedelta(seconds=i),
            347.51 + i,
            None if i % 7 == 0 else 1e6 + i,
            i,
            i % 3 == 0,
            None if i % 5 == 0 else f"note {i}",
        ]
        for i in range(module.ARROW_MIN_VALUES // len(columns) + 10)
    ]
    big = [[*rows[1][:5], 2**64 - 1, *rows[1][6:]]]  # past Int64: as text

    def expected(inserted: list[list[Any]]) -> list[dict[str, Any]]:
        """The rows as a query reads them back (a bool as 0 or 1), in the table's order."""
        as_read = [dict(zip(columns, [*row[:6], int(row[6]), row[7]], strict=True))
                   for row in inserted]
        return sorted(as_read, key=lambda row: (row["day"], row["trades"]))

    async def stored(way: str, inserted: list[list[Any]]) -> list[dict[str, Any]]:
        table = f"scratch.{way}_{uuid.uuid4().hex[:8]}"
        await analytics.command(
            f"CREATE TABLE {table} (symbol LowCardinality(String), day Date, "
            "at DateTime64(3, 'UTC'), price Float64, volume Nullable(Float64), trades UInt64, "
            "maker UInt8, note Nullable(String)) ENGINE = MergeTree ORDER BY (day, trades)"
        )
        await analytics.insert(table, columns, inserted)
        found = await analytics.query(f"SELECT * FROM {table} ORDER BY day, trades")
        await analytics.command(f"DROP TABLE {table}")
        return found

    taken: list[bool] = []
    arrow_table = module._arrow_table

    def spy(values: list[list[Any]]) -> Any:
        table = arrow_table(values)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(module, "_arrow_table", spy)
    as_columns = await stored("columns", rows)
    small = await stored("small", rows[:3])
    past_int64 = await stored("big", big)
    assert taken == [True, False, False]
    monkeypatch.setattr(module, "_arrow_table", lambda values: None)  # all of it as text
    as_text = await stored("text", rows)

    assert as_columns == as_text == expected(rows)
    assert small == expected(rows[:3])
    assert past_int64 == expected(big) and past_int64[0]["trades"] == 2**64 - 1
