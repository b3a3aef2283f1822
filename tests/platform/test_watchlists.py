"""Watchlists: created with items, read back in order, edited, deleted with their items."""

from __future__ import annotations

from nexus.stores.platform import PlatformStore
from tests.platform.conftest import GraphQL, create_watchlist, register, row_counts

READ = """
query Read($id: ID!) {
  watchlist(id: $id) {
    name
    owner { email watchlists { name } }
    items {
      kind key position
      instrument {
        __typename
        ... on Token { symbol }
        ... on Stock { symbol }
        ... on Series { id }
      }
    }
  }
}
"""


async def test_create_watchlist_reads_back_items_in_order(graphql: GraphQL) -> None:
    owner = await register(graphql)
    items = [("SERIES", "dgs10"), ("TOKEN", "btc"), ("STOCK", "brk.b"), ("TOKEN", "ETH")]
    watchlist = await create_watchlist(graphql, owner, items)

    result = await graphql(READ, id=watchlist)

    assert result.errors is None
    assert result.data == {
        "watchlist": {
            "name": "Main",
            "owner": {"email": "ada@example.com", "watchlists": [{"name": "Main"}]},
            "items": [
                {
                    "kind": "SERIES",
                    "key": "DGS10",
                    "position": 0,
                    "instrument": {"__typename": "Series", "id": "DGS10"},
                },
                {
                    "kind": "TOKEN",
                    "key": "BTC",
                    "position": 1,
                    "instrument": {"__typename": "Token", "symbol": "BTC"},
                },
                {
                    "kind": "STOCK",
                    "key": "BRK.B",
                    "position": 2,
                    "instrument": {"__typename": "Stock", "symbol": "BRK.B"},
                },
                {
                    "kind": "TOKEN",
                    "key": "ETH",
                    "position": 3,
                    "instrument": {"__typename": "Token", "symbol": "ETH"},
                },
            ],
        }
    }


async def test_add_and_remove_items_keep_positions_dense(graphql: GraphQL) -> None:
    owner = await register(graphql)
    watchlist = await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("STOCK", "GME")])
    edit = "items { kind key position }"

    added = await graphql(
        f"mutation($id: ID!) {{ addWatchlistItem(watchlistId: $id, kind: SERIES, key: "
        f'"t10y2y") {{ {edit} }} }}',
        id=watchlist,
    )
    removed = await graphql(
        f"mutation($id: ID!) {{ removeWatchlistItem(watchlistId: $id, kind: TOKEN, key: "
        f'"btc") {{ {edit} }} }}',
        id=watchlist,
    )

    assert added.errors is None
    assert added.data is not None
    assert [item["key"] for item in added.data["addWatchlistItem"]["items"]] == [
        "BTC",
        "GME",
        "T10Y2Y",
    ]
    assert removed.errors is None
    assert removed.data == {
        "removeWatchlistItem": {
            "items": [
                {"kind": "STOCK", "key": "GME", "position": 0},
                {"kind": "SERIES", "key": "T10Y2Y", "position": 1},
            ]
        }
    }


async def test_delete_watchlist_deletes_its_items(graphql: GraphQL, store: PlatformStore) -> None:
    owner = await register(graphql)
    keep = await create_watchlist(graphql, owner, [("TOKEN", "BTC")], name="Keep")
    drop = await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("TOKEN", "SOL")])

    result = await graphql("mutation($id: ID!) { deleteWatchlist(id: $id) }", id=drop)

    assert result.errors is None
    assert result.data == {"deleteWatchlist": drop}
    assert (await row_counts(store))["watchlist_items"] == 1
    after = await graphql("query($id: ID!) { watchlist(id: $id) { id } }", id=drop)
    assert after.data == {"watchlist": None}
    kept = await graphql("query($id: ID!) { watchlist(id: $id) { items { key } } }", id=keep)
    assert kept.data == {"watchlist": {"items": [{"key": "BTC"}]}}
