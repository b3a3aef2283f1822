"""Registering users and organizations, and reading them back."""

from __future__ import annotations

from graphql import GraphQLObjectType
from sqlalchemy import select

from nexus.stores.platform import PlatformStore
from subgraphs.platform import subgraph
from subgraphs.platform.models import User
from subgraphs.platform.passwords import verify_password
from tests.platform.conftest import REGISTER, GraphQL, register

CREATE_ORGANIZATION = """
mutation Create($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { id name slug createdAt }
}
"""


async def test_register_user_stores_a_verifiable_hash_never_the_password(
    graphql: GraphQL, store: PlatformStore
) -> None:
    result = await graphql(
        REGISTER,
        input={"email": " Ada@Example.COM ", "password": "correct horse", "displayName": "Ada"},
    )

    assert result.errors is None
    assert result.data is not None
    registered = result.data["registerUser"]
    assert registered["email"] == "ada@example.com"
    assert "correct horse" not in str(result.data)
    async with store.sessions() as session:
        user = await session.scalar(select(User).where(User.id == registered["id"]))
    assert user is not None
    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith("scrypt$")
    assert verify_password("correct horse", user.password_hash)
    assert not verify_password("correct horsf", user.password_hash)


def test_no_output_type_has_a_password_field() -> None:
    graphql_schema = subgraph.schema._schema
    output_fields = {
        f"{type_.name}.{field}"
        for type_ in graphql_schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for field in type_.fields
    }

    assert "User.email" in output_fields
    assert not [field for field in output_fields if "password" in field.lower()]


async def test_user_by_email_is_case_insensitive(graphql: GraphQL) -> None:
    user_id = await register(graphql, "grace@example.com")

    result = await graphql('query { userByEmail(email: "GRACE@example.com") { id displayName } }')

    assert result.errors is None
    assert result.data == {"userByEmail": {"id": user_id, "displayName": "Ada"}}


async def test_organization_lists_its_members(graphql: GraphQL) -> None:
    created = await graphql(CREATE_ORGANIZATION, input={"name": "  Acme Capital "})
    assert created.data is not None
    organization = created.data["createOrganization"]
    assert (organization["name"], organization["slug"]) == ("Acme Capital", "acme-capital")
    first = await register(graphql, "a@acme.com", organizationId=organization["id"])
    second = await register(graphql, "b@acme.com", organizationId=organization["id"])
    await register(graphql, "c@elsewhere.com")

    result = await graphql(
        "query($id: ID!) { organization(id: $id) { slug members { id organization { slug } } } }",
        id=organization["id"],
    )

    assert result.errors is None
    assert result.data == {
        "organization": {
            "slug": "acme-capital",
            "members": [
                {"id": first, "organization": {"slug": "acme-capital"}},
                {"id": second, "organization": {"slug": "acme-capital"}},
            ],
        }
    }


async def test_unknown_ids_read_as_null_without_errors(graphql: GraphQL) -> None:
    unknown = "7b0c6f7e-5d3a-4a51-9a39-2a3c1c1f0e11"

    result = await graphql(
        "query($id: ID!) { user(id: $id) { id } organization(id: $id) { id } "
        'watchlist(id: $id) { id } userByEmail(email: "nobody@example.com") { id } }',
        id=unknown,
    )

    assert result.errors is None
    assert result.data == {
        "user": None,
        "organization": None,
        "watchlist": None,
        "userByEmail": None,
    }
