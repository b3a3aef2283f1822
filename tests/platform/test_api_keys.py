"""API keys: the secret once, a list that shows only prefixes, last use, revocation, and the
key's scopes deciding what it may do."""

from __future__ import annotations

from sqlalchemy import select

from graph.edge.usage import UsageMeter
from nexus.auth.authenticator import Authenticator
from nexus.stores.platform import PlatformStore
from nexus.usage import UsageEvent
from subgraphs.platform.billing import PlatformUsageSink
from subgraphs.platform.models import ApiKey
from tests.platform.conftest import GraphQL, codes, create_watchlist, sign_up

CREATE = """
mutation($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) {
    secret apiKey { id name prefix scopes createdAt lastUsedAt expiresAt revokedAt }
  }
}
"""
LIST = "{ apiKeys { id name prefix scopes lastUsedAt revokedAt } }"


async def test_the_secret_is_shown_once_and_stored_as_a_hash(
    graphql: GraphQL, store: PlatformStore, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)

    created = await graphql(CREATE, account.caller, name="partner", scopes=["market:read"])
    listed = await graphql(LIST, account.caller)

    assert created.data is not None, created.errors
    secret = created.data["createApiKey"]["secret"]
    key = created.data["createApiKey"]["apiKey"]
    assert secret.startswith("nxa_") and len(secret) > 40
    assert key["prefix"] == secret[:12]
    assert (key["lastUsedAt"], key["expiresAt"], key["revokedAt"]) == (None, None, None)
    assert listed.data == {
        "apiKeys": [
            {
                "id": key["id"],
                "name": "partner",
                "prefix": secret[:12],
                "scopes": ["market:read"],
                "lastUsedAt": None,
                "revokedAt": None,
            }
        ]
    }
    assert secret not in str(listed.data)
    async with store.sessions() as session:
        stored = await session.scalar(select(ApiKey))
    assert stored is not None
    assert secret not in (stored.key_digest, stored.prefix, stored.name)


async def test_a_key_acts_within_its_scopes_and_records_its_last_use(
    graphql: GraphQL, authenticator: Authenticator, store: PlatformStore
) -> None:
    account = await sign_up(graphql, authenticator)
    await create_watchlist(graphql, account, [("TOKEN", "BTC")])
    reader = await graphql(CREATE, account.caller, name="r", scopes=["platform:read"])
    writer = await graphql(
        CREATE, account.caller, name="w", scopes=["platform:read", "platform:write"]
    )
    assert reader.data is not None and writer.data is not None
    read_key = await authenticator.authenticate(
        {"X-API-Key": reader.data["createApiKey"]["secret"]}
    )
    write_key = await authenticator.authenticate(
        {"X-API-Key": writer.data["createApiKey"]["secret"]}
    )
    create = 'mutation { createWatchlist(input: {name: "By key"}) { name owner { email } } }'

    read = await graphql("{ watchlists { name } }", read_key)
    refused = await graphql(create, read_key)
    written = await graphql(create, write_key)
    listed = await graphql(LIST, account.caller)

    assert read.data == {"watchlists": [{"name": "Main"}]}
    assert codes(refused) == ["FORBIDDEN"]
    # A key acts for the member who made it.
    assert written.data == {
        "createWatchlist": {"name": "By key", "owner": {"email": "ada@example.com"}}
    }
    # The lookup is a pure read: a key's use is noted by the router's usage meter, whose batch
    # writes each key's last use along with the usage rows.
    assert listed.data is not None
    assert [key["lastUsedAt"] for key in listed.data["apiKeys"]] == [None, None]
    meter = UsageMeter(PlatformUsageSink(store))
    for caller in (read_key, write_key):
        meter.record(UsageEvent.of(caller, None, 1, 1, "ok"))
    await meter.close()
    used = await graphql(LIST, account.caller)
    assert used.data is not None
    assert all(key["lastUsedAt"] is not None for key in used.data["apiKeys"])


async def test_revoking_a_key_is_listed_and_audited(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    account = await sign_up(graphql, authenticator)
    created = await graphql(CREATE, account.caller, name="old", scopes=["market:read"])
    assert created.data is not None
    key_id = created.data["createApiKey"]["apiKey"]["id"]

    revoked = await graphql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }", account.caller, id=key_id
    )
    listed = await graphql(LIST, account.caller)
    log = await graphql("{ auditLog { action target } }", account.caller)

    assert revoked.data is not None and revoked.data["revokeApiKey"]["revokedAt"] is not None
    assert listed.data is not None and listed.data["apiKeys"][0]["revokedAt"] is not None
    assert log.data is not None
    assert {"action": "api_key.revoked", "target": key_id} in log.data["auditLog"]
    assert {"action": "api_key.created", "target": key_id} in log.data["auditLog"]
