"""Tenant isolation: every root field of the platform schema, called by the owner of
organisation A with the ids of organisation B, reads as if B's ids were unknown and changes
nothing of B's.

The table below must name every Query and Mutation field (introspected from the schema): a new
field without a row fails `test_every_root_field_is_walked`, so it cannot ship unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from nexus.auth.authenticator import Authenticator
from nexus.stores.platform import PlatformStore
from subgraphs.platform import subgraph
from subgraphs.platform.models import (
    ApiKey,
    Invitation,
    Membership,
    OAuthClient,
    Organization,
    RefreshToken,
    TrustedDocument,
    User,
    Watchlist,
    WatchlistItem,
)
from tests.platform.conftest import Account, GraphQL, codes, create_watchlist, sign_up

FEDERATION_FIELDS = {"_service", "_entities"}


@dataclass(frozen=True)
class World:
    a: Account
    b: Account  # owner of B
    b_member: Account  # a second member of B
    b_watchlist: str
    b_key: str
    b_client: str
    b_invitation_token: str  # an invitation of B's, to an address A's owner does not hold
    b_invitation: str
    b_trusted_document: str

    def secrets(self) -> list[str]:
        """What of B must never appear in an answer to A."""
        return [
            self.b.organization_id,
            self.b.user_id,
            self.b_member.user_id,
            self.b.email,
            self.b_member.email,
            self.b_watchlist,
            self.b_key,
            self.b_client,
            self.b_invitation,
            self.b_trusted_document,
            "b3@b.com",
        ]


Variables = Callable[[World], dict[str, Any]]
# What A must get: a null field, an error code, or only A's own rows ("own").
Case = tuple[str, Variables, str]

NONE: Variables = lambda w: {}  # noqa: E731

CASES: dict[str, Case] = {
    # Queries.
    "me": ("{ me { id email organization { id } } }", NONE, "own"),
    "myOrganizations": ("{ myOrganizations { role organization { id slug } } }", NONE, "own"),
    "organization": (
        "query($id: ID!) { organization(id: $id) { id members { user { email } } } }",
        lambda w: {"id": w.b.organization_id},
        "null",
    ),
    "user": (
        "query($id: ID!) { user(id: $id) { id email } }",
        lambda w: {"id": w.b_member.user_id},
        "null",
    ),
    "watchlist": (
        "query($id: ID!) { watchlist(id: $id) { id items { key } } }",
        lambda w: {"id": w.b_watchlist},
        "null",
    ),
    "watchlists": ("{ watchlists { id name owner { email } } }", NONE, "own"),
    "publicWatchlists": ("{ publicWatchlists { id owner { email } } }", NONE, "own"),
    "plans": ("{ plans { name } }", NONE, "own"),
    "apiKeys": ("{ apiKeys { id prefix } }", NONE, "own"),
    "oauthClients": ("{ oauthClients { id clientId } }", NONE, "own"),
    "invitations": ("{ invitations { id email } }", NONE, "own"),
    "cancelInvitation": (
        "mutation($id: ID!) { cancelInvitation(id: $id) }",
        lambda w: {"id": w.b_invitation},
        "NOT_FOUND",
    ),
    "auditLog": ("{ auditLog(first: 500) { actorId target action } }", NONE, "own"),
    "usage": (
        '{ usage(from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z", groupBy: API_KEY) '
        "{ key operations } }",
        NONE,
        "own",
    ),
    "invoices": ("{ invoices { month totalCents lines { description } } }", NONE, "own"),
    # Mutations.
    "signUp": (
        'mutation { signUp(input: {email: "new@a.com", password: "long enough", '
        'displayName: "New"}) { organization { id } user { id } } }',
        NONE,
        "own",
    ),
    "signIn": (
        "mutation($email: String!, $org: ID!) { signIn(email: $email, "
        'password: "correct horse", organizationId: $org) { organization { id } } }',
        lambda w: {"email": w.a.email, "org": w.b.organization_id},
        "FORBIDDEN",
    ),
    "refreshToken": (
        "mutation($t: String!) { refreshToken(refreshToken: $t) { organization { id } } }",
        lambda w: {"t": w.a.refresh_token},
        "own",
    ),
    "signOut": ('mutation { signOut(refreshToken: "nxr_not-b-s-secret") }', NONE, "own"),
    "createOrganization": (
        'mutation { createOrganization(input: {name: "A2"}) { id members { user { email } } } }',
        NONE,
        "own",
    ),
    "inviteMember": (
        "mutation($email: String!) { inviteMember(email: $email, role: ADMIN) "
        "{ invitation { email } } }",
        lambda w: {"email": "someone-new@example.com"},
        "own",
    ),
    "acceptInvitation": (
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        lambda w: {"t": w.b_invitation_token},
        "NOT_FOUND",
    ),
    "changeRole": (
        "mutation($u: ID!) { changeRole(userId: $u, role: VIEWER) { role } }",
        lambda w: {"u": w.b_member.user_id},
        "NOT_FOUND",
    ),
    "removeMember": (
        "mutation($u: ID!) { removeMember(userId: $u) }",
        lambda w: {"u": w.b_member.user_id},
        "NOT_FOUND",
    ),
    "createApiKey": (
        'mutation { createApiKey(name: "a", scopes: ["market:read"]) { apiKey { id } } }',
        NONE,
        "own",
    ),
    "revokeApiKey": (
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
        lambda w: {"id": w.b_key},
        "NOT_FOUND",
    ),
    "createOAuthClient": (
        'mutation { createOAuthClient(name: "a", scopes: ["market:read"]) { client { id } } }',
        NONE,
        "own",
    ),
    "revokeOAuthClient": (
        "mutation($id: ID!) { revokeOAuthClient(id: $id) { id } }",
        lambda w: {"id": w.b_client},
        "NOT_FOUND",
    ),
    "createWatchlist": (
        'mutation { createWatchlist(input: {name: "Main", items: [{kind: TOKEN, key: "BTC"}]}) '
        "{ id owner { email } } }",
        NONE,
        "own",
    ),
    "addWatchlistItem": (
        'mutation($id: ID!) { addWatchlistItem(watchlistId: $id, kind: TOKEN, key: "ETH") { id } }',
        lambda w: {"id": w.b_watchlist},
        "NOT_FOUND",
    ),
    "removeWatchlistItem": (
        'mutation($id: ID!) { removeWatchlistItem(watchlistId: $id, kind: TOKEN, key: "BTC") '
        "{ id } }",
        lambda w: {"id": w.b_watchlist},
        "NOT_FOUND",
    ),
    "trustedDocuments": ("{ trustedDocuments { id sha256 } }", NONE, "own"),
    "registerTrustedDocument": (
        'mutation { registerTrustedDocument(name: "t", document: "{ plans { name } }") { id } }',
        NONE,
        "own",
    ),
    "deleteTrustedDocument": (
        "mutation($id: ID!) { deleteTrustedDocument(id: $id) }",
        lambda w: {"id": w.b_trusted_document},
        "NOT_FOUND",
    ),
    "deleteWatchlist": (
        "mutation($id: ID!) { deleteWatchlist(id: $id) }",
        lambda w: {"id": w.b_watchlist},
        "NOT_FOUND",
    ),
}


def root_fields() -> set[str]:
    graphql_schema = subgraph.schema._schema
    fields = set(graphql_schema.query_type.fields) if graphql_schema.query_type else set()
    if graphql_schema.mutation_type is not None:
        fields |= set(graphql_schema.mutation_type.fields)
    return fields - FEDERATION_FIELDS


def test_every_root_field_is_walked() -> None:
    assert root_fields() == set(CASES), "add the new field to CASES with B's ids"


@pytest.fixture
async def world(graphql: GraphQL, authenticator: Authenticator) -> World:
    a = await sign_up(graphql, authenticator, "a@a.com", organization="A")
    await create_watchlist(graphql, a, [("TOKEN", "SOL")], name="A's")
    b = await sign_up(graphql, authenticator, "b@b.com", organization="B")
    invite = (
        "mutation($e: String!) { inviteMember(email: $e, role: MEMBER) "
        "{ token invitation { id } } }"
    )
    invited = await graphql(invite, b.caller, e="b2@b.com")
    assert invited.data is not None
    b_member = await sign_up(graphql, authenticator, "b2@b.com")
    joined = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        b_member.caller,
        t=invited.data["inviteMember"]["token"],
    )
    assert joined.errors is None
    pending = await graphql(invite, b.caller, e="b3@b.com")
    key = await graphql(
        'mutation { createApiKey(name: "b", scopes: ["market:read"]) { apiKey { id } } }',
        b.caller,
    )
    client = await graphql(
        'mutation { createOAuthClient(name: "b", scopes: ["market:read"]) { client { id } } }',
        b.caller,
    )
    trusted = await graphql(
        'mutation { registerTrustedDocument(name: "b", document: "{ tokens { symbol } }") { id } }',
        b.caller,
    )
    assert pending.data and key.data and client.data and trusted.data
    return World(
        a=a,
        b=b,
        b_member=b_member,
        b_watchlist=await create_watchlist(graphql, b, [("TOKEN", "BTC")]),
        b_key=key.data["createApiKey"]["apiKey"]["id"],
        b_client=client.data["createOAuthClient"]["client"]["id"],
        b_invitation_token=pending.data["inviteMember"]["token"],
        b_invitation=pending.data["inviteMember"]["invitation"]["id"],
        b_trusted_document=trusted.data["registerTrustedDocument"]["id"],
    )


async def snapshot_of(store: PlatformStore, organization_id: str) -> dict[str, list[Any]]:
    """Every row of the organisation, as tuples: any change of B's shows here."""
    owned: list[Any] = [
        Watchlist,
        ApiKey,
        OAuthClient,
        Invitation,
        Membership,
        RefreshToken,
        TrustedDocument,
    ]
    snapshot: dict[str, list[Any]] = {}
    async with store.sessions() as session:
        for model in owned:
            rows = (
                await session.scalars(select(model).where(model.organization_id == organization_id))
            ).all()
            columns = model.__table__.columns.keys()
            snapshot[model.__tablename__] = sorted(
                tuple(str(getattr(row, column)) for column in columns) for row in rows
            )
        items = await session.scalars(
            select(WatchlistItem)
            .join(Watchlist, Watchlist.id == WatchlistItem.watchlist_id)
            .where(Watchlist.organization_id == organization_id)
        )
        snapshot["items"] = sorted((i.id, i.key, str(i.position)) for i in items.all())
        organization = await session.get(Organization, organization_id)
        snapshot["organization"] = [organization.name if organization else None]
        users = await session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id)
        )
        snapshot["users"] = sorted((u.id, u.email, u.password_hash) for u in users.all())
    return snapshot


@pytest.mark.parametrize("field", sorted(CASES))
async def test_organisation_a_cannot_reach_organisation_b(
    graphql: GraphQL, store: PlatformStore, world: World, field: str
) -> None:
    operation, variables, expected = CASES[field]
    before = await snapshot_of(store, world.b.organization_id)

    sent = variables(world)
    result = await graphql(operation, world.a.caller, **sent)

    assert await snapshot_of(store, world.b.organization_id) == before
    answer = str(result.data) + str([error.message for error in result.errors or []])
    for secret in world.secrets():
        # An error may repeat the id A sent ("no watchlist has the id ..."), nothing more.
        if secret not in str(sent):
            assert secret not in answer, f"{field} leaked {secret}"
    if expected == "null":
        assert result.errors is None
        assert result.data == {field: None}
    elif expected == "own":
        assert result.errors is None, result.errors
        assert result.data is not None and result.data[field] is not None
    else:
        assert codes(result) == [expected]


async def test_entities_of_b_resolve_to_null_for_a(graphql: GraphQL, world: World) -> None:
    result = await graphql(
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
        "... on Watchlist { id } ... on User { id email } ... on Organization { id } } }",
        world.a.caller,
        r=[
            {"__typename": "Watchlist", "id": world.b_watchlist},
            {"__typename": "User", "id": world.b.user_id},
            {"__typename": "Organization", "id": world.b.organization_id},
        ],
    )

    assert result.errors is None
    assert result.data == {"_entities": [None, None, None]}
