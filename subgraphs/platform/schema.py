"""The platform subgraph's root fields. Resolvers check access, then call the repositories or
the loaders; no SQL here.

Every field reads and writes the caller's organisation only (`access`), and another
organisation's ids behave exactly like unknown ids. `tests/platform/test_tenant_isolation.py`
walks every root field with a caller of another organisation: a new field needs a row there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.schema.config import StrawberryConfig

from nexus.auth.errors import AuthenticationError
from nexus.demand import assumed_size, sliced_by
from nexus.errors import Unauthenticated
from nexus.graphql_errors import SubgraphSchema
from subgraphs.columns import COLUMN_SCALARS
from subgraphs.platform import access, validation
from subgraphs.platform.accounts import Session
from subgraphs.platform.audit import events
from subgraphs.platform.billing_schema import BillingQuery
from subgraphs.platform.credentials import scope_set
from subgraphs.platform.inputs import CreateOrganizationInput, CreateWatchlistInput, SignUpInput
from subgraphs.platform.instruments import Series, Stock, Token
from subgraphs.platform.models import InstrumentKind
from subgraphs.platform.models import Role as StoredRole
from subgraphs.platform.payloads import (
    ApiKey,
    AuditEvent,
    AuthPayload,
    CreatedApiKey,
    CreatedInvitation,
    CreatedOAuthClient,
    Invitation,
    OAuthClient,
)
from subgraphs.platform.roles import Role
from subgraphs.platform.trusted_schema import TrustedDocumentMutation, TrustedDocumentQuery
from subgraphs.platform.types import (
    Info,
    Member,
    Membership,
    Organization,
    Plan,
    User,
    Watchlist,
    load_organization,
    load_user,
    load_watchlist,
)

Input = strawberry.argument(description="What to create.")
Id = Annotated[strawberry.ID, strawberry.argument(description="The object's id (a UUID).")]
WatchlistId = Annotated[strawberry.ID, strawberry.argument(description="The watchlist's id.")]
Kind = Annotated[InstrumentKind, strawberry.argument(description="The instrument's domain.")]
Key = Annotated[str, strawberry.argument(description="A symbol or FRED series id.")]
UserId = Annotated[strawberry.ID, strawberry.argument(description="The member's user id.")]
Scopes = Annotated[
    list[str], strawberry.argument(description="Scopes, each allowed by the organisation's plan.")
]
Name = Annotated[str, strawberry.argument(description="What it is for, 1-200 characters.")]
RefreshTokenArg = Annotated[
    str, strawberry.argument(description="The refresh token of the session.")
]


async def session_payload(info: Info, session: Session) -> AuthPayload:
    """Signs the access token of a session: the plan's scopes, less writes for viewers."""
    plan = await info.context.credentials.plan_of(session.organization.id)
    scopes = scope_set(plan.scopes)
    if session.role is StoredRole.VIEWER:
        scopes -= {access.WRITE_SCOPE}
    token, seconds = info.context.services.issuer.issue(
        subject=session.user.id,
        organization_id=session.organization.id,
        scopes=scopes,
        extra={"role": str(session.role), "plan": plan.name},
    )
    return AuthPayload(
        access_token=token,
        token_type="Bearer",
        expires_in=seconds,
        refresh_token=session.refresh_token,
        refresh_token_expires_at=session.refresh_expires_at,
        user=User.from_row(session.user),
        organization=Organization.from_row(session.organization),
        role=Role[session.role.value],
    )


@strawberry.type
class Query(BillingQuery, TrustedDocumentQuery):
    @strawberry.field(
        description="The signed-in user; null for an API key or OAuth client.",
        directives=access.SIGNED_IN,
    )
    async def me(self, info: Info) -> User | None:
        caller = info.context.caller
        if not caller.authenticated:
            raise Unauthenticated("Sign in to read your own account.")
        if caller.user_id is None or caller.kind != "user":
            return None
        return await load_user(info, caller.user_id)

    @strawberry.field(
        description="The organisations the signed-in user belongs to, with their role in each "
        "(signIn with organizationId acts in another).",
        directives=[*access.SIGNED_IN, assumed_size(5)],
    )
    async def my_organizations(self, info: Info) -> list[Membership]:
        user_id = access.signed_in(info.context.caller)
        rows = await info.context.accounts.memberships_of(user_id)
        return [Membership.from_rows(membership, org) for membership, org in rows]

    @strawberry.field(
        description="The caller's organisation; null for any other id.",
        directives=access.READS,
    )
    async def organization(self, info: Info, id: Id) -> Organization | None:
        await info.context.reader()
        return await load_organization(info, id)

    @strawberry.field(
        description="A member of the caller's organisation; null for anyone else.",
        directives=access.READS,
    )
    async def user(self, info: Info, id: Id) -> User | None:
        await info.context.reader()
        return await load_user(info, id)

    @strawberry.field(
        description="A watchlist of the caller's organisation, or a public one; null otherwise."
    )
    async def watchlist(self, info: Info, id: Id) -> Watchlist | None:
        return await load_watchlist(info, id)

    @strawberry.field(
        description="The caller's organisation's watchlists, by name.",
        directives=[*access.READS, assumed_size(10)],
    )
    async def watchlists(self, info: Info) -> list[Watchlist]:
        await info.context.reader()
        rows = await info.context.repository.organization_watchlists()
        return [Watchlist.from_row(row) for row in rows]

    @strawberry.field(
        description="Watchlists shared with everyone (no sign-in needed), by name.",
        # Demand control: 10 lists of 10 items keeps the README's cross-subgraph watchlist
        # query (every item's instrument from its own subgraph) inside the anonymous plan.
        directives=[assumed_size(10)],
    )
    async def public_watchlists(self, info: Info) -> list[Watchlist]:
        return [
            Watchlist.from_row(row) for row in await info.context.repository.public_watchlists()
        ]

    @strawberry.field(
        description="The price plans on offer, cheapest first (no sign-in needed).",
        directives=[assumed_size(4)],
    )
    async def plans(self, info: Info) -> list[Plan]:
        return [Plan.from_row(row) for row in await info.context.credentials.plan_rows()]

    @strawberry.field(
        description="The organisation's API keys, newest first (never secrets).",
        directives=[*access.READS, assumed_size(10)],
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        tenant = await info.context.reader()
        rows = await info.context.credentials.api_keys(tenant.organization_id)
        return [ApiKey.from_row(row) for row in rows]

    @strawberry.field(
        name="oauthClients",
        description="The organisation's OAuth clients (owners and admins only).",
        directives=[*access.READS, assumed_size(5)],
    )
    async def oauth_clients(self, info: Info) -> list[OAuthClient]:
        tenant = await info.context.manager()
        rows = await info.context.credentials.clients(tenant.organization_id)
        return [OAuthClient.from_row(row) for row in rows]

    @strawberry.field(
        description="The organisation's pending invitations, newest first (owners and admins).",
        directives=[*access.READS, assumed_size(10)],
    )
    async def invitations(self, info: Info) -> list[Invitation]:
        tenant = await info.context.manager()
        rows = await info.context.accounts.pending_invitations(tenant.organization_id)
        return [Invitation.from_row(row) for row in rows]

    @strawberry.field(
        description="The organisation's security events, newest first (owners and admins only).",
        directives=[*access.READS, sliced_by("first")],
    )
    async def audit_log(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many events, 1-500.")] = 50,
    ) -> list[AuditEvent]:
        tenant = await info.context.manager()
        rows = await events(info.context.store, tenant.organization_id, first)
        return [AuditEvent.from_row(row) for row in rows]


@strawberry.type
class Mutation(TrustedDocumentMutation):
    @strawberry.mutation(description="Creates a user and an organisation they own; signs in.")
    async def sign_up(self, info: Info, input: Annotated[SignUpInput, Input]) -> AuthPayload:
        session = await info.context.accounts.sign_up(
            input.email,
            input.password,
            input.display_name,
            input.organization_name,
            info.context.caller.address,
        )
        return await session_payload(info, session)

    @strawberry.mutation(
        description="Signs in with an e-mail and password (throttled per account and address)."
    )
    async def sign_in(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The account's e-mail.")],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
        organization_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Which of the user's organisations; default if null."),
        ] = None,
    ) -> AuthPayload:
        context = info.context
        address = context.caller.address
        email = validation.email(email)
        org = None if organization_id is None else validation.entity_id(organization_id)
        throttle = context.services.throttle
        await throttle.before_attempt(email, address)
        user = await context.accounts.check_password(email, password)
        if user is None:
            await throttle.failed(email)
            await context.accounts.record_failed_sign_in(email, address)
            raise AuthenticationError("The e-mail or password is wrong.")
        await throttle.succeeded(email)
        return await session_payload(info, await context.accounts.sign_in(user, org, address))

    @strawberry.mutation(
        description="Exchanges a refresh token for a new session; the old token stops working, "
        "and using it again ends every session of its sign-in."
    )
    async def refresh_token(self, info: Info, refresh_token: RefreshTokenArg) -> AuthPayload:
        return await session_payload(info, await info.context.accounts.refresh(refresh_token))

    @strawberry.mutation(
        description="Ends the refresh token's session; false when the token is unknown."
    )
    async def sign_out(self, info: Info, refresh_token: RefreshTokenArg) -> bool:
        return await info.context.accounts.sign_out(refresh_token)

    @strawberry.mutation(
        description="Creates an organisation owned by the signed-in user.",
        directives=access.SIGNED_IN,
    )
    async def create_organization(
        self, info: Info, input: Annotated[CreateOrganizationInput, Input]
    ) -> Organization:
        user_id = access.signed_in(info.context.caller)
        row = await info.context.accounts.create_organization(user_id, input.name, input.slug)
        return Organization.from_row(row)

    @strawberry.mutation(
        description="Invites someone by e-mail (owners and admins only).",
        directives=access.READS,
    )
    async def invite_member(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The invitee's e-mail.")],
        role: Annotated[Role, strawberry.argument(description="The role they will get.")],
    ) -> CreatedInvitation:
        tenant = await info.context.manager()
        wanted = StoredRole(role.name)
        if wanted is StoredRole.OWNER and tenant.role is not StoredRole.OWNER:
            access.forbid("Only an owner may invite an owner.")
        invitation, token = await info.context.accounts.invite(
            tenant.organization_id, str(tenant.user_id), email, wanted
        )
        return CreatedInvitation(invitation=Invitation.from_row(invitation), token=token)

    @strawberry.mutation(
        description="Withdraws a pending invitation (owners and admins); returns its id.",
        directives=access.READS,
    )
    async def cancel_invitation(self, info: Info, id: Id) -> strawberry.ID:
        tenant = await info.context.manager()
        cancelled = await info.context.accounts.cancel_invitation(
            tenant.organization_id, str(tenant.user_id), id
        )
        return strawberry.ID(cancelled)

    @strawberry.mutation(
        description="Joins the organisation of an invitation sent to the signed-in user's e-mail.",
        directives=access.SIGNED_IN,
    )
    async def accept_invitation(
        self,
        info: Info,
        token: Annotated[str, strawberry.argument(description="The invitation's token.")],
    ) -> Organization:
        user_id = access.signed_in(info.context.caller)
        return Organization.from_row(await info.context.accounts.accept_invitation(user_id, token))

    @strawberry.mutation(
        description="Changes a member's role (owners and admins only).",
        directives=access.READS,
    )
    async def change_role(
        self,
        info: Info,
        user_id: UserId,
        role: Annotated[Role, strawberry.argument(description="The new role.")],
    ) -> Member:
        tenant = await info.context.manager()
        assert tenant.role is not None and tenant.user_id is not None
        await info.context.accounts.change_role(
            tenant.organization_id, tenant.user_id, tenant.role, user_id, StoredRole(role.name)
        )
        rows = await info.context.loaders.members.load(tenant.organization_id)
        return next(Member.from_rows(m, u) for m, u in rows if m.user_id == user_id)

    @strawberry.mutation(
        description="Removes a member and ends their sessions (owners and admins); the user id.",
        directives=access.READS,
    )
    async def remove_member(self, info: Info, user_id: UserId) -> strawberry.ID:
        tenant = await info.context.manager()
        assert tenant.role is not None and tenant.user_id is not None
        removed = await info.context.accounts.remove_member(
            tenant.organization_id, tenant.user_id, tenant.role, user_id
        )
        return strawberry.ID(removed)

    @strawberry.mutation(
        description="Creates an API key; its secret is in the answer, once.",
        directives=access.WRITES,
    )
    async def create_api_key(
        self,
        info: Info,
        name: Name,
        scopes: Scopes,
        expires_at: Annotated[
            datetime | None,
            strawberry.argument(description="When it stops working (UTC); never if null."),
        ] = None,
        trusted_documents_only: Annotated[
            bool,
            strawberry.argument(
                description="Run only the organisation's trusted documents (registerTrusted"
                "Document); any other operation is refused with PERSISTED_QUERY_NOT_IN_LIST."
            ),
        ] = False,
    ) -> CreatedApiKey:
        tenant = await info.context.writer()
        key, secret = await info.context.credentials.create_api_key(
            tenant.organization_id,
            tenant.user_id,
            name,
            scopes,
            expires_at,
            trusted_documents_only=trusted_documents_only,
        )
        return CreatedApiKey(api_key=ApiKey.from_row(key), secret=secret)

    @strawberry.mutation(
        description="Revokes an API key; requests with it fail within seconds.",
        directives=access.WRITES,
    )
    async def revoke_api_key(self, info: Info, id: Id) -> ApiKey:
        tenant = await info.context.writer()
        row = await info.context.credentials.revoke_api_key(
            tenant.organization_id, tenant.user_id, id
        )
        return ApiKey.from_row(row)

    @strawberry.mutation(
        name="createOAuthClient",
        description="Creates an OAuth client (owners and admins); its secret is shown once.",
        directives=access.READS,
    )
    async def create_oauth_client(
        self, info: Info, name: Name, scopes: Scopes
    ) -> CreatedOAuthClient:
        tenant = await info.context.manager()
        client, secret = await info.context.credentials.create_client(
            tenant.organization_id, str(tenant.user_id), name, scopes
        )
        return CreatedOAuthClient(client=OAuthClient.from_row(client), client_secret=secret)

    @strawberry.mutation(
        name="revokeOAuthClient", description="Revokes an OAuth client (owners and admins only).",
        directives=access.READS,
    )
    async def revoke_oauth_client(self, info: Info, id: Id) -> OAuthClient:
        tenant = await info.context.manager()
        row = await info.context.credentials.revoke_client(
            tenant.organization_id, str(tenant.user_id), id
        )
        return OAuthClient.from_row(row)

    @strawberry.mutation(
        description="Creates a watchlist owned by the caller.",
        directives=access.WRITES,
    )
    async def create_watchlist(
        self, info: Info, input: Annotated[CreateWatchlistInput, Input]
    ) -> Watchlist:
        tenant = await info.context.writer()
        if tenant.user_id is None:
            access.forbid("Watchlists are owned by users; use a user's token or API key.")
        items = [(item.kind, item.key) for item in input.items]
        row = await info.context.repository.create_watchlist(
            str(tenant.user_id), input.name, items, public=input.public
        )
        return Watchlist.from_row(row)

    @strawberry.mutation(
        description="Adds an instrument at the end of a watchlist.",
        directives=access.WRITES,
    )
    async def add_watchlist_item(
        self, info: Info, watchlist_id: WatchlistId, kind: Kind, key: Key
    ) -> Watchlist:
        await info.context.writer()
        row = await info.context.repository.add_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation(
        description="Removes an instrument from a watchlist.",
        directives=access.WRITES,
    )
    async def remove_watchlist_item(
        self, info: Info, watchlist_id: WatchlistId, kind: Kind, key: Key
    ) -> Watchlist:
        await info.context.writer()
        row = await info.context.repository.remove_watchlist_item(watchlist_id, kind, key)
        return Watchlist.from_row(row)

    @strawberry.mutation(
        description="Deletes the watchlist and its items; returns its id.",
        directives=access.WRITES,
    )
    async def delete_watchlist(self, info: Info, id: Id) -> strawberry.ID:
        await info.context.writer()
        return strawberry.ID(await info.context.repository.delete_watchlist(id))


schema = SubgraphSchema(
    query=Query,
    mutation=Mutation,
    # The stubs are reachable only through the Instrument union; list them so they're printed.
    types=[Token, Stock, Series],
    config=StrawberryConfig(scalar_map=COLUMN_SCALARS),
)

__all__ = ["Mutation", "Query", "schema"]
