"""First uses of API keys that arrive together are read in one query, and each key still gets
its own caller: a revoked, expired or unknown key among them is refused, the others are not."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy.ext.asyncio import create_async_engine

from nexus.auth.authenticator import Authenticator
from nexus.auth.secrets import digest
from nexus.errors import StoreUnavailable
from nexus.stores import Stores
from subgraphs.platform.credentials import Credentials
from subgraphs.platform.key_lookup import ApiKeyLookups
from tests.platform.conftest import GraphQL, sign_up

KEYS = 30
CREATE = """
mutation($name: String!, $expiresAt: DateTime) {
  createApiKey(name: $name, scopes: ["platform:read"], expiresAt: $expiresAt) {
    secret apiKey { id }
  }
}
"""


async def test_concurrent_first_uses_share_one_read_and_keep_their_own_callers(
    graphql: GraphQL, authenticator: Authenticator, stores: Stores
) -> None:
    account = await sign_up(graphql, authenticator)
    keys: dict[str, str] = {}  # secret -> key id
    for n in range(KEYS):
        created = await graphql(CREATE, account.caller, name=f"key {n}")
        assert created.data is not None, created.errors
        keys[created.data["createApiKey"]["secret"]] = created.data["createApiKey"]["apiKey"]["id"]
    revoked, *live = keys
    gone = await graphql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", account.caller, id=keys[revoked]
    )
    assert gone.errors is None
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    expiring = await graphql(CREATE, account.caller, name="expiring", expiresAt=soon)
    assert expiring.data is not None, expiring.errors
    await asyncio.sleep(1.1)  # expired now

    store = stores.require_platform()
    credentials = Credentials(store)
    asked = [*live, revoked, expiring.data["createApiKey"]["secret"], "nxa_" + "x" * 40, live[0]]
    before = store.round_trips
    callers = await asyncio.gather(*(credentials.caller_for_api_key(digest(s)) for s in asked))
    reads = store.round_trips - before

    assert [c.api_key_id if c else None for c in callers] == [
        *(keys[s] for s in live),
        None,  # revoked
        None,  # expired
        None,  # unknown
        keys[live[0]],  # the same key twice in one batch
    ]
    assert {c.organization_id for c in callers if c} == {account.caller.organization_id}
    assert all(c.scopes == frozenset({"platform:read"}) for c in callers if c)
    assert reads == 1  # one query for all of them, not one per key


async def test_a_lookup_after_a_revocation_commits_sees_it(
    graphql: GraphQL, authenticator: Authenticator, stores: Stores
) -> None:
    account = await sign_up(graphql, authenticator)
    created = await graphql(CREATE, account.caller, name="partner")
    assert created.data is not None, created.errors
    secret, key_id = (
        created.data["createApiKey"]["secret"],
        created.data["createApiKey"]["apiKey"]["id"],
    )
    credentials = Credentials(stores.require_platform())
    first = await credentials.caller_for_api_key(digest(secret))
    assert first is not None and first.api_key_id == key_id

    gone = await graphql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", account.caller, id=key_id
    )
    assert gone.errors is None
    assert await credentials.caller_for_api_key(digest(secret)) is None


async def test_a_failed_read_fails_its_lookups_and_the_next_one_reads_again(
    graphql: GraphQL, authenticator: Authenticator, stores: Stores
) -> None:
    account = await sign_up(graphql, authenticator)
    created = await graphql(CREATE, account.caller, name="partner")
    assert created.data is not None, created.errors
    key_digest = digest(created.data["createApiKey"]["secret"])
    store = stores.require_platform()
    lookups = ApiKeyLookups(store)
    real_engine = store.engine
    store.engine = create_async_engine("sqlite+aiosqlite:////nonexistent/dir/platform.db")
    try:
        failed = await asyncio.gather(
            lookups.caller_for(key_digest), lookups.caller_for(key_digest), return_exceptions=True
        )
    finally:
        await store.engine.dispose()
        store.engine = real_engine
    assert [type(error) for error in failed] == [StoreUnavailable, StoreUnavailable]
    caller = await lookups.caller_for(key_digest)
    assert caller is not None and caller.organization_id == account.caller.organization_id
