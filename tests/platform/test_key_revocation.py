"""Verified API keys are remembered for minutes, yet a revoked key stops working at once:
revokeApiKey and removeMember announce the keys on the bus and every authenticator evicts them,
in this process (the embedded bus) and in others (two authenticators on one real Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from nexus.auth.authenticator import Authenticator
from nexus.auth.errors import AuthenticationError
from nexus.auth.keys import TokenIssuer
from nexus.stores import Stores
from nexus.stores.bus import RedisBus
from subgraphs.platform.credentials import Credentials
from subgraphs.platform.services import authenticator_for, services_for
from tests.conftest import REDIS_URL
from tests.platform.conftest import SIGN_IN, GraphQL, caller_of, graphql_on, sign_up

CREATE_KEY = """
mutation($scopes: [String!]!, $expiresAt: DateTime) {
  createApiKey(name: "partner", scopes: $scopes, expiresAt: $expiresAt) { secret apiKey { id } }
}
"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
MINUTES = 600.0  # the long interval: longer than any test, so only an event can evict


@pytest.fixture
def issuer(stores: Stores) -> TokenIssuer:
    return services_for(stores.settings).issuer


async def refused_within(edge: Authenticator, secret: str, seconds: float) -> float | None:
    """How long until `edge` refuses the key (None: it never did within `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            await edge.authenticate({"X-API-Key": secret})
        except AuthenticationError:
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    return None


async def new_key(graphql: GraphQL, authenticator: Authenticator, email: str) -> tuple[str, str]:
    account = await sign_up(graphql, authenticator, email)
    created = await graphql(CREATE_KEY, account.caller, scopes=["market:read"])
    assert created.data is not None, created.errors
    payload = created.data["createApiKey"]
    return payload["secret"], payload["apiKey"]["id"]


async def test_revoking_a_key_refuses_it_at_once_though_verified_keys_are_kept_for_minutes(
    graphql: GraphQL, stores: Stores, issuer: TokenIssuer
) -> None:
    edge = Authenticator(
        issuer, Credentials(stores.require_platform()), bus=stores.bus, verified_seconds=MINUTES
    )
    await edge.ready()
    account = await sign_up(graphql, edge, "ada@example.com")
    created = await graphql(CREATE_KEY, account.caller, scopes=["market:read"])
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    key_id = created.data["createApiKey"]["apiKey"]["id"]
    other_secret, _ = await new_key(graphql, edge, "bob@example.com")

    before = await edge.authenticate({"X-API-Key": secret})
    await edge.authenticate({"X-API-Key": other_secret})
    revoked = await graphql(REVOKE, account.caller, id=key_id)
    refused_after = await refused_within(edge, secret, 1.0)

    assert before.api_key_id == key_id
    assert revoked.errors is None
    assert refused_after is not None and refused_after < 1.0
    # The other key is untouched by the revocation.
    assert (await edge.authenticate({"X-API-Key": other_secret})).kind == "api_key"
    await edge.close()


async def test_removing_a_member_refuses_the_keys_they_made_at_once(
    graphql: GraphQL, stores: Stores
) -> None:
    authenticator = authenticator_for(stores, serves_platform=True)
    await authenticator.ready()
    owner = await sign_up(graphql, authenticator, "a@acme.com", organization="Acme")
    invited = await graphql(
        'mutation { inviteMember(email: "b@acme.com", role: MEMBER) { token } }', owner.caller
    )
    assert invited.data is not None, invited.errors
    member = await sign_up(graphql, authenticator, "b@acme.com")
    accepted = await graphql(
        "mutation($t: String!) { acceptInvitation(token: $t) { slug } }",
        member.caller,
        t=invited.data["inviteMember"]["token"],
    )
    assert accepted.errors is None, accepted.errors
    signed_in = await graphql(
        SIGN_IN, email="b@acme.com", password="correct horse", organizationId=owner.organization_id
    )
    assert signed_in.data is not None, signed_in.errors
    in_acme = await caller_of(authenticator, signed_in.data["signIn"]["accessToken"])
    created = await graphql(CREATE_KEY, in_acme, scopes=["market:read"])
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]

    before = await authenticator.authenticate({"X-API-Key": secret})
    removed = await graphql(
        "mutation($u: ID!) { removeMember(userId: $u) }", owner.caller, u=member.user_id
    )
    refused_after = await refused_within(authenticator, secret, 1.0)

    assert before.organization_id == owner.organization_id
    assert removed.errors is None, removed.errors
    assert refused_after is not None and refused_after < 1.0
    await authenticator.close()


async def test_a_key_kept_for_minutes_is_refused_when_it_expires(
    graphql: GraphQL, stores: Stores, issuer: TokenIssuer
) -> None:
    edge = Authenticator(
        issuer, Credentials(stores.require_platform()), bus=stores.bus, verified_seconds=MINUTES
    )
    await edge.ready()
    account = await sign_up(graphql, edge)
    soon = time.time() + 2.0
    created = await graphql(
        CREATE_KEY,
        account.caller,
        scopes=["market:read"],
        expiresAt=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(soon + 1)) + "Z",
    )
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]

    assert (await edge.authenticate({"X-API-Key": secret})).kind == "api_key"
    await asyncio.sleep(max(0.0, soon + 1.2 - time.time()))
    with pytest.raises(AuthenticationError):
        await edge.authenticate({"X-API-Key": secret})
    await edge.close()


async def test_without_a_delivering_bus_keys_are_kept_only_for_the_short_interval(
    graphql: GraphQL, stores: Stores, issuer: TokenIssuer
) -> None:
    # Nothing listens on port 1: revocations could never reach this authenticator.
    unreachable = RedisBus("redis://127.0.0.1:1/0", reconnect_delays=(0.05,))
    edge = Authenticator(
        issuer,
        Credentials(stores.require_platform()),
        bus=unreachable,
        cache_seconds=0.3,
        verified_seconds=MINUTES,
    )
    account = await sign_up(graphql, edge)
    created = await graphql(CREATE_KEY, account.caller, scopes=["market:read"])
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    key_id = created.data["createApiKey"]["apiKey"]["id"]

    assert (await edge.authenticate({"X-API-Key": secret})).api_key_id == key_id
    revoked = await graphql(REVOKE, account.caller, id=key_id)
    refused_after = await refused_within(edge, secret, 2.0)

    assert revoked.errors is None
    # Within the short interval (0.3 s), not the ten minutes a delivering bus would allow.
    assert refused_after is not None and refused_after < 1.0
    await edge.close()
    await unreachable.close()


@pytest.fixture
async def redis_stores(stores: Stores) -> AsyncIterator[tuple[Stores, Stores]]:
    """Two processes' stores: one platform database, each its own connection to Redis."""
    first = Stores(settings=stores.settings, platform=stores.platform, bus=RedisBus(REDIS_URL))
    second = Stores(settings=stores.settings, platform=stores.platform, bus=RedisBus(REDIS_URL))
    yield first, second
    for bus in (first.bus, second.bus):
        assert bus is not None
        await bus.close()


@pytest.mark.redis
async def test_a_key_revoked_through_one_process_is_refused_by_another_within_a_second(
    redis_stores: tuple[Stores, Stores],
) -> None:
    first, second = redis_stores
    graphql = graphql_on(first)
    here, there = authenticator_for(first), authenticator_for(second)
    await here.ready()
    await there.ready()
    account = await sign_up(graphql, here)
    created = await graphql(CREATE_KEY, account.caller, scopes=["market:read"])
    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    key_id = created.data["createApiKey"]["apiKey"]["id"]

    assert (await there.authenticate({"X-API-Key": secret})).api_key_id == key_id
    assert (await here.authenticate({"X-API-Key": secret})).api_key_id == key_id
    revoked = await graphql(REVOKE, account.caller, id=key_id)
    there_after = await refused_within(there, secret, 1.0)
    here_after = await refused_within(here, secret, 1.0)

    assert revoked.errors is None
    assert there_after is not None and there_after < 1.0
    assert here_after is not None and here_after < 1.0
    await here.close()
    await there.close()
