"""Roles: viewers read, members write, owners and admins manage; anonymous callers see nothing
of an organisation; a role change or removal takes effect on the next request."""

from __future__ import annotations

import pytest

from nexus.auth.authenticator import Authenticator
from nexus.stores.platform import PlatformStore
from tests.platform.conftest import (
    Account,
    GraphQL,
    codes,
    create_watchlist,
    row_counts,
    sign_in,
    sign_up,
)

Team = dict[str, Account]

WRITES = {
    "create watchlist": 'mutation { createWatchlist(input: {name: "V"}) { id } }',
    "add item": 'mutation($w: ID!) { addWatchlistItem(watchlistId: $w, kind: TOKEN, key: "ETH") '
    "{ id } }",
    "delete watchlist": "mutation($w: ID!) { deleteWatchlist(id: $w) }",
    "create api key": 'mutation { createApiKey(name: "k", scopes: ["market:read"]) { secret } }',
}
MANAGING = {
    "invite": 'mutation { inviteMember(email: "x@acme.com", role: MEMBER) { token } }',
    "change role": "mutation($u: ID!) { changeRole(userId: $u, role: VIEWER) { role } }",
    "remove member": "mutation($u: ID!) { removeMember(userId: $u) }",
    "audit log": "{ auditLog { action } }",
    "oauth clients": "{ oauthClients { id } }",
    "invitations": "{ invitations { email } }",
    "create oauth client": 'mutation { createOAuthClient(name: "c", scopes: ["market:read"]) '
    "{ clientSecret } }",
}


async def join(
    graphql: GraphQL, authenticator: Authenticator, owner: Account, email: str, role: str
) -> Account:
    invited = await graphql(
        "mutation($e: String!, $r: Role!) { inviteMember(email: $e, role: $r) { token } }",
        owner.caller,
        e=email,
        r=role,
    )
    assert invited.data is not None, invited.errors
    account = await sign_up(graphql, authenticator, email)
    accepted = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        account.caller,
        t=invited.data["inviteMember"]["token"],
    )
    assert accepted.errors is None, accepted.errors
    return await sign_in(graphql, authenticator, email, owner.organization_id)


@pytest.fixture
async def team(graphql: GraphQL, authenticator: Authenticator) -> Team:
    owner = await sign_up(graphql, authenticator, "owner@acme.com", organization="Acme")
    return {
        "owner": owner,
        "admin": await join(graphql, authenticator, owner, "admin@acme.com", "ADMIN"),
        "member": await join(graphql, authenticator, owner, "member@acme.com", "MEMBER"),
        "viewer": await join(graphql, authenticator, owner, "viewer@acme.com", "VIEWER"),
    }


@pytest.mark.parametrize("operation", WRITES.values(), ids=WRITES.keys())
async def test_viewers_read_but_cannot_write(
    graphql: GraphQL, store: PlatformStore, team: Team, operation: str
) -> None:
    watchlist = await create_watchlist(graphql, team["member"], [("TOKEN", "BTC")])
    before = await row_counts(store)

    refused = await graphql(operation, team["viewer"].caller, w=watchlist, u=watchlist)
    read = await graphql("{ watchlists { name items { key } } }", team["viewer"].caller)

    assert codes(refused) == ["FORBIDDEN"]
    assert await row_counts(store) == before
    assert read.data == {"watchlists": [{"name": "Main", "items": [{"key": "BTC"}]}]}


@pytest.mark.parametrize("operation", MANAGING.values(), ids=MANAGING.keys())
async def test_members_cannot_manage_the_organisation(
    graphql: GraphQL, store: PlatformStore, team: Team, operation: str
) -> None:
    before = await row_counts(store)

    member = await graphql(operation, team["member"].caller, u=team["viewer"].user_id)
    anonymous = await graphql(operation, u=team["viewer"].user_id)
    admin = await graphql(operation, team["admin"].caller, u=team["viewer"].user_id)

    assert codes(member) == ["FORBIDDEN"]
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert member.data is None or all(value is None for value in member.data.values())
    assert admin.errors is None, admin.errors
    assert (await row_counts(store))["memberships"] >= before["memberships"] - 1


async def test_only_owners_make_or_unmake_owners(graphql: GraphQL, team: Team) -> None:
    promote = "mutation($u: ID!) { changeRole(userId: $u, role: OWNER) { role } }"
    demote = "mutation($u: ID!) { changeRole(userId: $u, role: MEMBER) { role } }"

    by_admin = await graphql(promote, team["admin"].caller, u=team["member"].user_id)
    admin_demotes_owner = await graphql(demote, team["admin"].caller, u=team["owner"].user_id)
    last_owner = await graphql(demote, team["owner"].caller, u=team["owner"].user_id)
    by_owner = await graphql(promote, team["owner"].caller, u=team["member"].user_id)

    assert codes(by_admin) == codes(admin_demotes_owner) == ["FORBIDDEN"]
    assert codes(last_owner) == ["BAD_USER_INPUT"]
    assert by_owner.data == {"changeRole": {"role": "OWNER"}}


async def test_a_role_change_applies_to_the_next_request_with_the_same_token(
    graphql: GraphQL, team: Team
) -> None:
    member = team["member"]
    before = await graphql('mutation { createWatchlist(input: {name: "A"}) { id } }', member.caller)
    changed = await graphql(
        "mutation($u: ID!) { changeRole(userId: $u, role: VIEWER) { role user { email } } }",
        team["owner"].caller,
        u=member.user_id,
    )
    after = await graphql('mutation { createWatchlist(input: {name: "B"}) { id } }', member.caller)

    assert before.errors is None
    assert changed.data == {"changeRole": {"role": "VIEWER", "user": {"email": "member@acme.com"}}}
    assert codes(after) == ["FORBIDDEN"]


async def test_a_removed_member_loses_access_sessions_and_keys_at_once(
    graphql: GraphQL, team: Team
) -> None:
    member = team["member"]
    created = await graphql(
        'mutation { createApiKey(name: "mine", scopes: ["platform:read"]) { apiKey { id } } }',
        member.caller,
    )
    assert created.data is not None

    removed = await graphql(
        "mutation($u: ID!) { removeMember(userId: $u) }", team["admin"].caller, u=member.user_id
    )
    read = await graphql("{ watchlists { id } }", member.caller)
    refreshed = await graphql(
        "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
        t=member.refresh_token,
    )
    log = await graphql("{ auditLog { action target } }", team["owner"].caller)
    keys = await graphql("{ apiKeys { id revokedAt } }", team["owner"].caller)

    assert removed.data == {"removeMember": member.user_id}
    assert keys.data is not None
    assert [key["revokedAt"] is not None for key in keys.data["apiKeys"]] == [True]
    assert codes(read) == ["FORBIDDEN"]
    assert codes(refreshed) == ["UNAUTHENTICATED"]
    assert log.data is not None
    actions = [event["action"] for event in log.data["auditLog"]]
    assert {"member.removed", "member.invited", "member.joined", "user.signed_in"} <= set(actions)


async def test_anonymous_callers_read_public_watchlists_only(graphql: GraphQL, team: Team) -> None:
    public = await create_watchlist(graphql, team["member"], [("TOKEN", "BTC")], "Open", True)
    private = await create_watchlist(graphql, team["member"], [("TOKEN", "ETH")], "Closed")

    listed = await graphql("{ publicWatchlists { name owner { email } items { key } } }")
    one = await graphql(
        "query($a: ID!, $b: ID!) { a: watchlist(id: $a) { name } b: watchlist(id: $b) { name } }",
        a=public,
        b=private,
    )
    mine = await graphql("{ watchlists { name } }")
    plans = await graphql("{ plans { name monthlyPrice costPerMinute } }")

    assert listed.data == {
        "publicWatchlists": [{"name": "Open", "owner": None, "items": [{"key": "BTC"}]}]
    }
    assert one.data == {"a": {"name": "Open"}, "b": None}
    assert codes(mine) == ["UNAUTHENTICATED"]
    assert plans.data is not None
    assert [plan["name"] for plan in plans.data["plans"]] == [
        "anonymous",
        "free",
        "pro",
        "enterprise",
    ]
    assert plans.data["plans"][2] == {"name": "pro", "monthlyPrice": 49.0, "costPerMinute": 100000}
