"""Watchlists: created with items, read back in order, edited, deleted with their items."""

from __future__ import annotations

import asyncio
import datetime as dt

from graphql import GraphQLNonNull, GraphQLObjectType

from nexus.auth.authenticator import Authenticator
from nexus.events import MarketTick, encode
from nexus.stores.bus import InProcessBus
from nexus.stores.platform import PlatformStore
from subgraphs.platform import catalogue, subgraph
from tests.platform.conftest import GraphQL, create_watchlist, row_counts, sign_up

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


async def test_create_watchlist_reads_back_items_in_order(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    items = [("SERIES", "dgs10"), ("TOKEN", "btc"), ("STOCK", "brk.b"), ("TOKEN", "ETH")]
    watchlist = await create_watchlist(graphql, owner, items)

    result = await graphql(READ, owner.caller, id=watchlist)

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


async def test_add_and_remove_items_keep_positions_dense(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("STOCK", "GME")])
    edit = "items { kind key position }"

    added = await graphql(
        f"mutation($id: ID!) {{ addWatchlistItem(watchlistId: $id, kind: SERIES, key: "
        f'"t10y2y") {{ {edit} }} }}',
        owner.caller,
        id=watchlist,
    )
    removed = await graphql(
        f"mutation($id: ID!) {{ removeWatchlistItem(watchlistId: $id, kind: TOKEN, key: "
        f'"btc") {{ {edit} }} }}',
        owner.caller,
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


async def test_delete_watchlist_deletes_its_items(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    keep = await create_watchlist(graphql, owner, [("TOKEN", "BTC")], name="Keep")
    drop = await create_watchlist(graphql, owner, [("TOKEN", "BTC"), ("TOKEN", "SOL")])

    result = await graphql("mutation($id: ID!) { deleteWatchlist(id: $id) }", owner.caller, id=drop)

    assert result.errors is None
    assert result.data == {"deleteWatchlist": drop}
    assert (await row_counts(store))["watchlist_items"] == 1
    after = await graphql("query($id: ID!) { watchlist(id: $id) { id } }", owner.caller, id=drop)
    assert after.data == {"watchlist": None}
    kept = await graphql(
        "query($id: ID!) { watchlist(id: $id) { items { key } } }", owner.caller, id=keep
    )
    assert kept.data == {"watchlist": {"items": [{"key": "BTC"}]}}


async def test_an_unknown_instrument_is_refused_and_never_stored(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(graphql, owner, [("TOKEN", "BTC")])
    before = await row_counts(store)

    created = await graphql(
        'mutation { createWatchlist(input: {name: "X", items: [{kind: STOCK, key: "NOPE"}]}) '
        "{ id } }",
        owner.caller,
    )
    added = await graphql(
        'mutation($id: ID!) { addWatchlistItem(watchlistId: $id, kind: SERIES, key: "BTC") '
        "{ id } }",
        owner.caller,
        id=watchlist,
    )

    for result, named in ((created, "'NOPE'"), (added, "'BTC'")):
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "key"}
        assert named in result.errors[0].message
    assert await row_counts(store) == before


async def test_instruments_learnt_from_market_events_can_be_added(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator)
    watchlist = await create_watchlist(graphql, owner, [])
    bus = InProcessBus()
    listener = asyncio.create_task(catalogue.learn_from_bus(store, bus))
    await asyncio.sleep(0.05)  # subscribed
    tick = MarketTick(
        symbol="PEPE",
        asset_class="crypto",
        price=1e-5,
        open=1e-5,
        high=1e-5,
        low=1e-5,
        previous_close=1e-5,
        volume=1.0,
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        published_at=0.0,
    )
    add = (
        'mutation($id: ID!) { addWatchlistItem(watchlistId: $id, kind: TOKEN, key: "pepe") '
        "{ items { key } } }"
    )
    before = await graphql(add, owner.caller, id=watchlist)
    await bus.publish("market.PEPE", encode(tick))
    for _ in range(100):
        after = await graphql(add, owner.caller, id=watchlist)
        if after.errors is None:
            break
        await asyncio.sleep(0.05)
    listener.cancel()

    assert [e.extensions for e in before.errors or []] == [
        {"code": "BAD_USER_INPUT", "field": "key"}
    ]
    assert after.errors is None
    assert after.data == {"addWatchlistItem": {"items": [{"key": "PEPE"}]}}


def test_an_instrument_a_domain_no_longer_knows_nulls_only_its_item() -> None:
    items = subgraph.schema._schema.type_map["WatchlistItem"]
    assert isinstance(items, GraphQLObjectType)
    # Nullable, so the router's null for a vanished instrument stops at the item.
    assert not isinstance(items.fields["instrument"].type, GraphQLNonNull)
