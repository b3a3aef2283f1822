"""`POST /oauth/token` (RFC 6749 section 4.4) and `GET /.well-known/jwks.json`, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette

from nexus.auth.authenticator import Authenticator
from nexus.stores import Stores
from subgraphs.platform.http import identity_routes
from tests.platform.conftest import Account, GraphQL, codes, sign_up

CREATE_CLIENT = """
mutation($scopes: [String!]!) {
  createOAuthClient(name: "pricing bot", scopes: $scopes) {
    clientSecret client { id clientId scopes }
  }
}
"""


@pytest.fixture
async def http(stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=identity_routes(stores))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus") as client:
        yield client


@pytest.fixture
async def owner(graphql: GraphQL, authenticator: Authenticator) -> Account:
    return await sign_up(graphql, authenticator)


@pytest.fixture
async def client(graphql: GraphQL, owner: Account) -> dict[str, str]:
    created = await graphql(CREATE_CLIENT, owner.caller, scopes=["market:read", "platform:read"])
    assert created.data is not None, created.errors
    payload = created.data["createOAuthClient"]
    return {
        "id": payload["client"]["id"],
        "client_id": payload["client"]["clientId"],
        "client_secret": payload["clientSecret"],
    }


async def test_client_credentials_with_basic_auth_grant_a_verifiable_token(
    http: httpx.AsyncClient,
    client: dict[str, str],
    owner: Account,
    authenticator: Authenticator,
    graphql: GraphQL,
) -> None:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "market:read"},
        auth=(client["client_id"], client["client_secret"]),
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "market:read", 900)
    caller = await authenticator.authenticate({"Authorization": f"Bearer {body['access_token']}"})
    assert (caller.kind, caller.client_id, caller.organization_id) == (
        "client",
        client["client_id"],
        owner.organization_id,
    )
    assert caller.scopes == frozenset({"market:read"})
    # Granted market:read only: the organisation's data stays closed to it.
    assert codes(await graphql("{ watchlists { id } }", caller)) == ["FORBIDDEN"]
    jwks = (await http.get("/.well-known/jwks.json")).json()
    verified = jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert verified.claims["org"] == owner.organization_id


async def test_form_credentials_and_no_scope_grant_all_of_the_clients_scopes(
    http: httpx.AsyncClient, client: dict[str, str]
) -> None:
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "market:read platform:read"


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("{id}", "nxs_wrong"), 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "no"},
            None,
            400,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, ("nxc_unknown", "{secret}"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 400, "invalid_client"),
        (
            {"grant_type": "client_credentials", "scope": "platform:write"},
            ("{id}", "{secret}"),
            400,
            "invalid_scope",
        ),
        ({"grant_type": "password"}, ("{id}", "{secret}"), 400, "unsupported_grant_type"),
        ({}, ("{id}", "{secret}"), 400, "invalid_request"),
        (
            {"grant_type": "client_credentials", "client_secret": "{secret}"},
            ("{id}", "{secret}"),
            400,
            "invalid_request",
        ),
    ],
    ids=[
        "wrong secret",
        "wrong form secret",
        "unknown client",
        "no credentials",
        "scope beyond the client",
        "wrong grant",
        "no grant type",
        "two methods",
    ],
)
async def test_refused_token_requests_answer_rfc_6749_errors(
    http: httpx.AsyncClient,
    client: dict[str, str],
    form: dict[str, str],
    basic: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    def fill(value: str) -> str:
        return value.format(id=client["client_id"], secret=client["client_secret"])

    response = await http.post(
        "/oauth/token",
        data={name: fill(value) for name, value in form.items()},
        auth=None if basic is None else (fill(basic[0]), fill(basic[1])),
    )

    assert response.status_code == status
    assert response.json()["error"] == error
    assert "access_token" not in response.json()
    assert client["client_secret"] not in response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_a_revoked_client_gets_no_more_tokens(
    http: httpx.AsyncClient, client: dict[str, str], owner: Account, graphql: GraphQL
) -> None:
    revoked = await graphql(
        "mutation($id: ID!) { revokeOAuthClient(id: $id) { revokedAt } }",
        owner.caller,
        id=client["id"],
    )

    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )

    assert revoked.errors is None
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_jwks_publishes_public_keys_only(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])
