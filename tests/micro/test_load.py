"""The demo load: what it reports, and that loading again adds nothing."""

from __future__ import annotations

from nexus.stores.analytics import ChdbStore
from nexus.stores.vectors import VectorStore
from subgraphs.micro.demo import load_demo
from subgraphs.micro.generator import DailyBar, synthetic_posts
from subgraphs.micro.repository import TEXTS_COLLECTION


async def _table_rows(analytics: ChdbStore) -> dict[str, int]:
    rows = {}
    for table in ("stocks", "candles", "posts", "mentions"):
        counted = await analytics.query(f"SELECT count() AS n FROM micro.{table}")
        rows[f"micro.{table}"] = int(counted[0]["n"])
    return rows


async def test_loading_twice_adds_no_rows(
    analytics: ChdbStore, vectors: VectorStore, micro_load: dict[str, int]
) -> None:
    first = await _table_rows(analytics)

    again = await load_demo(analytics, vectors)

    assert again == micro_load
    assert await _table_rows(analytics) == first
    assert first == {table: micro_load[table] for table in first}
    assert await vectors.count(TEXTS_COLLECTION) == micro_load[TEXTS_COLLECTION]


def test_load_reports_the_demo_sizes(micro_load: dict[str, int]) -> None:
    assert micro_load["micro.stocks"] == 5
    assert micro_load["micro.candles"] == 2 * 777 + 3 * 21
    assert 10_000 < micro_load["micro.posts"] < 50_000
    assert micro_load["micro.mentions"] > micro_load["micro.posts"]
    # One vector per distinct wording: a few hundred for the generated posts and the comments.
    assert 200 < micro_load["micro_post_texts"] < 1_000


def test_generated_posts_are_deterministic() -> None:
    import datetime as dt

    bars = [
        DailyBar("GME", dt.date(2021, 1, 26), 36.0, 178_000_000.0),
        DailyBar("GME", dt.date(2021, 1, 27), 86.9, 373_600_000.0),
    ]

    assert synthetic_posts(bars) == synthetic_posts(bars)
    assert len(synthetic_posts(bars)) > 100
