"""Signing up, signing in, refresh-token rotation, signing out, `me` and the members list."""

from __future__ import annotations

import asyncio

import pytest
from graphql import GraphQLObjectType
from sqlalchemy import select

from nexus.auth import Caller
from nexus.auth.authenticator import Authenticator
from nexus.auth.errors import AuthenticationError
from nexus.stores.platform import PlatformStore
from subgraphs.platform import subgraph
from subgraphs.platform.models import RefreshToken, User
from subgraphs.platform.passwords import verify_password
from tests.platform.conftest import SIGN_UP, GraphQL, codes, sign_in, sign_up

REFRESH = """
mutation($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken role user { email } }
}
"""
SIGN_IN_RAW = 'mutation($p: String!) { signIn(email: "ada@example.com", password: $p) { role } }'


async def test_sign_up_stores_a_verifiable_hash_never_the_password(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    result = await graphql(
        SIGN_UP,
        input={"email": " Ada@Example.COM ", "password": "correct horse", "displayName": "Ada"},
    )

    assert result.errors is None
    assert result.data is not None
    payload = result.data["signUp"]
    assert payload["user"]["email"] == "ada@example.com"
    assert (payload["role"], payload["tokenType"], payload["expiresIn"]) == ("OWNER", "Bearer", 900)
    assert payload["refreshToken"].startswith("nxr_")
    assert "correct horse" not in str(result.data)
    async with store.sessions() as session:
        user = await session.scalar(select(User).where(User.id == payload["user"]["id"]))
        digests = (await session.scalars(select(RefreshToken.token_digest))).all()
    assert user is not None
    assert user.password_hash.startswith("scrypt$")
    assert verify_password("correct horse", user.password_hash)
    assert not verify_password("correct horsf", user.password_hash)
    assert payload["refreshToken"] not in digests  # only its hash is stored
    caller = await authenticator.authenticate({"authorization": f"Bearer {payload['accessToken']}"})
    assert (caller.kind, caller.user_id, caller.organization_id, caller.role) == (
        "user",
        payload["user"]["id"],
        payload["organization"]["id"],
        "OWNER",
    )
    assert caller.plan.name == "free"
    assert {"market:read", "platform:read", "platform:write"} <= caller.scopes


def test_no_output_type_has_a_password_or_hash_field() -> None:
    graphql_schema = subgraph.schema._schema
    output_fields = {
        f"{type_.name}.{field}"
        for type_ in graphql_schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for field in type_.fields
    }

    assert "User.email" in output_fields
    assert not [f for f in output_fields if "password" in f.lower() or "digest" in f.lower()]


async def test_sign_in_and_me(graphql: GraphQL, authenticator: Authenticator) -> None:
    await sign_up(graphql, authenticator, display_name="Ada Lovelace")
    account = await sign_in(graphql, authenticator, "ADA@example.com")

    me = await graphql("{ me { email displayName organization { slug } } }", account.caller)
    anonymous = await graphql("{ me { email } }")

    assert me.errors is None
    assert me.data == {
        "me": {
            "email": "ada@example.com",
            "displayName": "Ada Lovelace",
            "organization": {"slug": "ada-lovelace-s-organisation"},
        }
    }
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_wrong_password_is_unauthenticated_and_audited(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)

    wrong = await graphql(SIGN_IN_RAW, p="correct horsf")
    unknown = await graphql(
        'mutation { signIn(email: "nobody@example.com", password: "x") { role } }'
    )
    log = await graphql("{ auditLog { action target } }", account.caller)

    assert codes(wrong) == codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong.errors is not None and unknown.errors is not None
    assert wrong.errors[0].message == unknown.errors[0].message  # no account enumeration
    assert log.data is not None
    assert {"action": "user.sign_in_failed", "target": "ada@example.com"} in log.data["auditLog"]


async def test_sign_in_is_throttled_per_account(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    await sign_up(graphql, authenticator)
    for _ in range(5):
        assert codes(await graphql(SIGN_IN_RAW, p="guess")) == ["UNAUTHENTICATED"]

    # Even the right password is refused until the window ends.
    throttled = await graphql(SIGN_IN_RAW, p="correct horse")

    assert codes(throttled) == ["RATE_LIMITED"]
    assert throttled.errors is not None
    assert throttled.errors[0].extensions is not None
    assert 0 < throttled.errors[0].extensions["retryAfter"] <= 300


async def test_sign_in_is_throttled_per_client_address(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    await sign_up(graphql, authenticator)
    caller = Caller(address="203.0.113.9")
    other = Caller(address="198.51.100.1")
    for i in range(20):  # different accounts, one address
        email = f"nobody{i}@example.com"
        result = await graphql(
            f'mutation {{ signIn(email: "{email}", password: "x") {{ role }} }}', caller
        )
        assert codes(result) == ["UNAUTHENTICATED"]

    blocked = await graphql(SIGN_IN_RAW, caller, p="correct horse")
    elsewhere = await graphql(SIGN_IN_RAW, other, p="correct horse")

    assert codes(blocked) == ["RATE_LIMITED"]
    assert elsewhere.errors is None
    assert elsewhere.data == {"signIn": {"role": "OWNER"}}


async def test_refresh_rotates_and_reuse_revokes_the_family(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)

    first = await graphql(REFRESH, token=account.refresh_token)
    assert first.errors is None and first.data is not None
    rotated = first.data["refreshToken"]["refreshToken"]
    assert rotated != account.refresh_token
    caller = await authenticator.authenticate(
        {"Authorization": f"Bearer {first.data['refreshToken']['accessToken']}"}
    )
    assert caller.user_id == account.user_id

    reused = await graphql(REFRESH, token=account.refresh_token)  # stolen and replayed
    after_theft = await graphql(REFRESH, token=rotated)  # the family is gone

    assert codes(reused) == ["UNAUTHENTICATED"]
    assert codes(after_theft) == ["UNAUTHENTICATED"]
    log = await graphql("{ auditLog { action } }", account.caller)
    assert log.data is not None
    assert {"action": "token.reused"} in log.data["auditLog"]


async def test_sign_out_revokes_the_refresh_token(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)

    out = await graphql(
        "mutation($t: String!) { signOut(refreshToken: $t) }", t=account.refresh_token
    )
    again = await graphql(REFRESH, token=account.refresh_token)
    unknown = await graphql('mutation { signOut(refreshToken: "nxr_nope") }')

    assert out.data == {"signOut": True}
    assert codes(again) == ["UNAUTHENTICATED"]
    assert unknown.data == {"signOut": False}


async def test_organization_lists_its_members_with_roles(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator, "a@acme.com", organization="Acme Capital")
    invited = await graphql(
        'mutation { inviteMember(email: "B@acme.com", role: VIEWER) '
        "{ token invitation { email role } } }",
        owner.caller,
    )
    assert invited.data is not None, invited.errors
    assert invited.data["inviteMember"]["invitation"] == {"email": "b@acme.com", "role": "VIEWER"}
    member = await sign_up(graphql, authenticator, "b@acme.com")
    accepted = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { slug } }",
        member.caller,
        t=invited.data["inviteMember"]["token"],
    )
    await sign_up(graphql, authenticator, "c@elsewhere.com")

    result = await graphql(
        "query($id: ID!) { organization(id: $id) { slug plan { name } "
        "members { role user { email } } } }",
        owner.caller,
        id=owner.organization_id,
    )

    assert accepted.data == {"acceptInvitation": {"slug": "acme-capital"}}
    assert result.errors is None
    assert result.data == {
        "organization": {
            "slug": "acme-capital",
            "plan": {"name": "free"},
            "members": [
                {"role": "OWNER", "user": {"email": "a@acme.com"}},
                {"role": "VIEWER", "user": {"email": "b@acme.com"}},
            ],
        }
    }


async def test_an_invitation_is_for_its_addressee_only(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator, "a@acme.com", organization="Acme")
    invited = await graphql(
        'mutation { inviteMember(email: "b@acme.com", role: MEMBER) { token } }', owner.caller
    )
    assert invited.data is not None
    stranger = await sign_up(graphql, authenticator, "eve@example.com")

    taken = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { slug } }",
        stranger.caller,
        t=invited.data["inviteMember"]["token"],
    )

    assert codes(taken) == ["NOT_FOUND"]


async def test_tokens_fail_when_the_authenticator_is_given_garbage(
    authenticator: Authenticator,
) -> None:
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate({"Authorization": "Bearer nxr_refresh_is_not_access"})


async def test_two_concurrent_refreshes_with_one_token_issue_one_session(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)

    results = await asyncio.gather(
        graphql(REFRESH, token=account.refresh_token),
        graphql(REFRESH, token=account.refresh_token),
    )

    assert sorted(str(codes(result)) for result in results) == ["['UNAUTHENTICATED']", "[]"]


async def test_a_user_of_two_organisations_signs_in_to_either(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator, "a@acme.com", organization="Acme")
    invited = await graphql(
        'mutation { inviteMember(email: "b@b.com", role: ADMIN) { token } }', owner.caller
    )
    assert invited.data is not None
    member = await sign_up(graphql, authenticator, "b@b.com", organization="Bee")
    await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        member.caller,
        t=invited.data["inviteMember"]["token"],
    )

    mine = await graphql("{ myOrganizations { role organization { slug } } }", member.caller)
    in_acme = await sign_in(graphql, authenticator, "b@b.com", owner.organization_id)

    assert mine.data == {
        "myOrganizations": [
            {"role": "OWNER", "organization": {"slug": "bee"}},
            {"role": "ADMIN", "organization": {"slug": "acme"}},
        ]
    }
    assert (in_acme.caller.organization_id, in_acme.caller.role) == (
        owner.organization_id,
        "ADMIN",
    )


async def test_a_cancelled_invitation_cannot_be_accepted(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    owner = await sign_up(graphql, authenticator, "a@acme.com", organization="Acme")
    invited = await graphql(
        'mutation { inviteMember(email: "b@acme.com", role: MEMBER) { token invitation { id } } }',
        owner.caller,
    )
    assert invited.data is not None
    invitation = invited.data["inviteMember"]["invitation"]["id"]
    pending = await graphql("{ invitations { id email role } }", owner.caller)

    cancelled = await graphql(
        "mutation($id: ID!) { cancelInvitation(id: $id) }", owner.caller, id=invitation
    )
    after = await graphql("{ invitations { id } }", owner.caller)
    invitee = await sign_up(graphql, authenticator, "b@acme.com")
    accepted = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        invitee.caller,
        t=invited.data["inviteMember"]["token"],
    )

    assert pending.data == {
        "invitations": [{"id": invitation, "email": "b@acme.com", "role": "MEMBER"}]
    }
    assert cancelled.data == {"cancelInvitation": invitation}
    assert after.data == {"invitations": []}
    assert codes(accepted) == ["NOT_FOUND"]
