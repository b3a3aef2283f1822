"""What the identity mutations and queries return: sessions, keys, clients, invitations, audit
events. No type here carries a stored hash; a secret appears only in the payload that creates it.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.platform import models
from subgraphs.platform.roles import Role
from subgraphs.platform.types import Organization, User


@strawberry.type(description="A signed-in session: an access token and its refresh token.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="A JWT (RS256) to send as `Authorization: Bearer <token>`."
    )
    token_type: str = strawberry.field(description="Always `Bearer`.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    refresh_token: str = strawberry.field(
        description="Opaque; exchange it once with refreshToken for a new session. Keep secret."
    )
    refresh_token_expires_at: datetime = strawberry.field(
        description="When the refresh token expires (UTC)."
    )
    user: User = strawberry.field(description="Who signed in.")
    organization: Organization = strawberry.field(description="The organisation signed in to.")
    role: Role = strawberry.field(description="The user's role in that organisation.")


@strawberry.type(description="An API key, as listed: never its secret.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The API key's id (a UUID); not the key.")
    name: str = strawberry.field(description="What the key is for.")
    prefix: str = strawberry.field(description="The key's first characters, e.g. nxa_Qx3k9LmA.")
    scopes: list[str] = strawberry.field(description="What the key may do.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request (UTC, to the minute); null if never."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it stops working (UTC); null for never."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (UTC); null while live."
    )
    trusted_documents_only: bool = strawberry.field(
        description="Whether it runs only the organisation's trusted documents."
    )

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            prefix=row.prefix,
            scopes=row.scopes.split(),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            trusted_documents_only=row.trusted_documents_only,
        )


@strawberry.type(description="A new API key with its secret, shown this once.")
class CreatedApiKey:
    api_key: ApiKey = strawberry.field(description="The key as it will be listed.")
    secret: str = strawberry.field(
        description="The key itself (nxa_...); send it as `X-API-Key` or a Bearer token. It "
        "is stored only as a hash and cannot be shown again."
    )


@strawberry.type(description="A machine client of the OAuth 2.0 client-credentials grant.")
class OAuthClient:
    id: strawberry.ID = strawberry.field(
        description="The client's record id (a UUID); not its client_id."
    )
    client_id: str = strawberry.field(description="The client_id to send to /oauth/token.")
    name: str = strawberry.field(description="What the client is.")
    scopes: list[str] = strawberry.field(description="The most its tokens may carry.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (UTC); null while live."
    )

    @classmethod
    def from_row(cls, row: models.OAuthClient) -> OAuthClient:
        return cls(
            id=strawberry.ID(row.id),
            client_id=row.client_id,
            name=row.name,
            scopes=row.scopes.split(),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="A new OAuth client with its secret, shown this once.")
class CreatedOAuthClient:
    client: OAuthClient = strawberry.field(description="The client as it will be listed.")
    client_secret: str = strawberry.field(
        description="The client_secret; stored only as a hash and cannot be shown again."
    )


@strawberry.type(description="An invitation to join an organisation.")
class Invitation:
    id: strawberry.ID = strawberry.field(description="The invitation's id (a UUID).")
    email: str = strawberry.field(description="Who may accept it (lower-cased).")
    role: Role = strawberry.field(description="The role the invitee gets.")
    created_at: datetime = strawberry.field(description="When it was sent (UTC).")
    expires_at: datetime = strawberry.field(description="When it lapses (UTC).")

    @classmethod
    def from_row(cls, row: models.Invitation) -> Invitation:
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            role=Role[row.role],
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


@strawberry.type(description="A new invitation with its token, shown this once.")
class CreatedInvitation:
    invitation: Invitation = strawberry.field(description="The invitation.")
    token: str = strawberry.field(
        description="Give it to the invitee, who passes it to acceptInvitation once signed in."
    )


@strawberry.type(description="One security event of the organisation.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="The event's id (a UUID).")
    action: str = strawberry.field(
        description="What happened, e.g. user.signed_in, user.sign_in_failed, api_key.created, "
        "api_key.revoked, member.role_changed."
    )
    actor_id: strawberry.ID | None = strawberry.field(
        description="The user or OAuth client that acted; null for a failed sign-in."
    )
    target: str | None = strawberry.field(
        description="What was acted on: an id or an e-mail address."
    )
    address: str | None = strawberry.field(description="The client's IP address, when known.")
    at: datetime = strawberry.field(description="When it happened (UTC).")

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(row.id),
            action=row.action,
            actor_id=None if row.actor_id is None else strawberry.ID(row.actor_id),
            target=row.target,
            address=row.address,
            at=row.at,
        )
