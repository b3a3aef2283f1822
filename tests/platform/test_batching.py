"""DataLoaders make the SQL cost of a query independent of how many items it returns."""

from __future__ import annotations

from nexus.auth.authenticator import Authenticator
from nexus.stores.platform import PlatformStore
from tests.platform.conftest import Account, GraphQL, create_watchlist, sign_in, sign_up

WATCHLIST_WITH_EVERYTHING = """
query Read($id: ID!) {
  watchlist(id: $id) {
    name
    owner { email organization { slug members { user { email } role } } }
    items {
      kind key position addedAt
      instrument { __typename ... on Token { symbol } ... on Stock { symbol } ... on Series { id } }
    }
  }
}
"""

KINDS = ("TOKEN", "STOCK", "SERIES")


async def round_trips_to_read(
    graphql: GraphQL, store: PlatformStore, owner: Account, item_count: int
) -> int:
    items = [(KINDS[i % 3], f"SYM{i}") for i in range(item_count)]
    watchlist = await create_watchlist(graphql, owner, items, name=f"{item_count} items")
    before = store.round_trips

    result = await graphql(WATCHLIST_WITH_EVERYTHING, owner.caller, id=watchlist)

    assert result.errors is None
    assert result.data is not None
    read = result.data["watchlist"]["items"]
    assert [item["key"] for item in read] == [key for _, key in items]
    assert {item["instrument"]["__typename"] for item in read} == (
        {"Token", "Stock", "Series"} if item_count >= 3 else {"Token", "Stock"}
    )
    assert result.data["watchlist"]["owner"]["organization"]["slug"] == "acme"
    return store.round_trips - before


async def test_round_trips_do_not_grow_with_items(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator, organization="Acme")

    with_5 = await round_trips_to_read(graphql, store, owner, 5)
    with_50 = await round_trips_to_read(graphql, store, owner, 50)

    # the caller's role, watchlist, items, owner, organization, members: one SELECT each.
    assert with_5 == with_50 == 6


async def test_users_of_many_watchlists_load_in_one_query(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    admin = await sign_up(graphql, authenticator, "admin@example.com")
    owners = [admin]
    for i in range(1, 10):  # members of the admin's organisation, each with a watchlist
        invited = await graphql(
            "mutation($email: String!) { inviteMember(email: $email, role: MEMBER) { token } }",
            admin.caller,
            email=f"user{i}@example.com",
        )
        assert invited.data is not None, invited.errors
        member = await sign_up(graphql, authenticator, f"user{i}@example.com")
        joined = await graphql(
            "mutation($token: String!) { acceptInvitation(token: $token) { id } }",
            member.caller,
            token=invited.data["inviteMember"]["token"],
        )
        assert joined.errors is None, joined.errors
        owners.append(await sign_in(graphql, authenticator, member.email, admin.organization_id))
    watchlists = [await create_watchlist(graphql, owner, [("TOKEN", "BTC")]) for owner in owners]
    before = store.round_trips

    result = await graphql(
        "query($reps: [_Any!]!) { _entities(representations: $reps) "
        "{ ... on Watchlist { owner { email } items { key } } } }",
        admin.caller,
        reps=[{"__typename": "Watchlist", "id": id_} for id_ in watchlists],
    )

    assert result.errors is None
    assert result.data is not None
    assert [w["owner"]["email"] for w in result.data["_entities"]] == [
        "admin@example.com",
        *(f"user{i}@example.com" for i in range(1, 10)),
    ]
    # the caller's role, watchlists, their owners, their items.
    assert store.round_trips - before == 4
