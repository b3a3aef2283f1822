"""API keys and OAuth clients of an organisation, and the lookups the edge authenticates with.

A key or client secret is shown once, when created; the store keeps its SHA-256. A key's scopes
must be among its organisation's plan's scopes, so a key can never carry more than the plan sells.
"""

from __future__ import annotations

import secrets as random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from nexus.auth import Caller, PlanLimits
from nexus.auth import secrets as credentials
from nexus.auth.authenticator import publish_revocation
from nexus.errors import BadUserInput, NotFound
from nexus.stores.bus import Bus
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import validation
from subgraphs.platform.audit import record
from subgraphs.platform.key_lookup import ApiKeyLookups
from subgraphs.platform.models import ApiKey, OAuthClient, Organization, Plan, utc_now
from subgraphs.platform.repository import insert

MAX_KEYS = 100  # live keys per organisation


def scope_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def plan_limits(plan: Plan) -> PlanLimits:
    return PlanLimits(
        name=plan.name,
        cost_per_minute=plan.cost_per_minute,
        max_operation_cost=plan.max_operation_cost,
        max_subscriptions=plan.max_subscriptions,
        scopes=scope_set(plan.scopes),
    )


class Credentials:
    def __init__(self, store: PlatformStore, bus: Bus | None = None) -> None:
        self._store = store
        self._bus = bus  # where revoked API keys are announced to every authenticator
        self._key_lookups = ApiKeyLookups(store)

    async def plan_of(self, organization_id: str) -> Plan:
        async with available(), self._store.sessions() as session:
            plan = await session.scalar(
                select(Plan)
                .join(Organization, Organization.plan == Plan.name)
                .where(Organization.id == organization_id)
            )
        if plan is None:
            raise NotFound("this organisation no longer exists.")
        return plan

    async def plans(self) -> Mapping[str, PlanLimits]:
        async with available(), self._store.sessions() as session:
            rows = (await session.scalars(select(Plan))).all()
        return {row.name: plan_limits(row) for row in rows}

    async def plan_rows(self) -> list[Plan]:
        async with available(), self._store.sessions() as session:
            rows = await session.scalars(select(Plan).order_by(Plan.monthly_price_cents, Plan.name))
            return list(rows.all())

    async def _granted(self, organization_id: str, scopes: Iterable[str]) -> str:
        wanted = sorted({scope.strip() for scope in scopes if scope.strip()})
        if not wanted:
            raise BadUserInput("scopes must name at least one scope, such as market:read.")
        allowed = scope_set((await self.plan_of(organization_id)).scopes)
        refused = [scope for scope in wanted if scope not in allowed]
        if refused:
            raise BadUserInput(
                f"the organisation's plan does not allow the scopes {', '.join(refused)}; "
                f"it allows {', '.join(sorted(allowed))}.",
                field="scopes",
            )
        return " ".join(wanted)

    # API keys.

    async def create_api_key(
        self,
        organization_id: str,
        user_id: str | None,
        name: str,
        scopes: Sequence[str],
        expires_at: datetime | None,
        *,
        trusted_documents_only: bool = False,
    ) -> tuple[ApiKey, str]:
        name = validation.name(name)
        if expires_at is not None and expires_at <= utc_now():
            raise BadUserInput("expiresAt must be in the future.", field="expiresAt")
        granted = await self._granted(organization_id, scopes)
        created = credentials.new_api_key()
        async with available(), self._store.sessions.begin() as session:
            live = await session.scalars(
                select(ApiKey.id).where(
                    ApiKey.organization_id == organization_id, ApiKey.revoked_at.is_(None)
                )
            )
            if len(live.all()) >= MAX_KEYS:
                raise BadUserInput(f"an organisation holds at most {MAX_KEYS} live API keys.")
            key = await insert(
                session,
                ApiKey(
                    organization_id=organization_id,
                    created_by=user_id,
                    name=name,
                    prefix=created.visible_prefix,
                    key_digest=created.digest,
                    scopes=granted,
                    expires_at=expires_at,
                    trusted_documents_only=trusted_documents_only,
                ),
            )
            record(session, organization_id, user_id, "api_key.created", key.id)
            return key, created.secret

    async def api_keys(self, organization_id: str) -> list[ApiKey]:
        query = (
            select(ApiKey)
            .where(ApiKey.organization_id == organization_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def revoke_api_key(self, organization_id: str, actor: str | None, key_id: str) -> ApiKey:
        key_id = validation.entity_id(key_id)
        async with available(), self._store.sessions.begin() as session:
            key = await session.get(ApiKey, key_id)
            if key is None or key.organization_id != organization_id:
                raise NotFound(f"no API key has the id {key_id}.")
            if key.revoked_at is None:
                key.revoked_at = utc_now()
                record(session, organization_id, actor, "api_key.revoked", key.id)
        # Announced after the commit (and again for an already revoked key: harmless), so an
        # authenticator that evicts it and looks again finds it revoked.
        await publish_revocation(self._bus, [key.id])
        return key

    async def caller_for_api_key(self, key_digest: str) -> Caller | None:
        """The edge's lookup: the live key with this digest as a caller. A pure read: the key's
        `last_used_at` is written by the usage meter's batches (`PlatformUsageSink`), not here,
        so a burst of first uses never queues behind the store's write lock; and first uses
        that arrive together are read in one query (`ApiKeyLookups`)."""
        return await self._key_lookups.caller_for(key_digest)

    # OAuth clients.

    async def create_client(
        self, organization_id: str, user_id: str, name: str, scopes: Sequence[str]
    ) -> tuple[OAuthClient, str]:
        name = validation.name(name)
        granted = await self._granted(organization_id, scopes)
        secret = credentials.new_secret(credentials.OAUTH_SECRET_PREFIX)
        async with available(), self._store.sessions.begin() as session:
            client = await insert(
                session,
                OAuthClient(
                    organization_id=organization_id,
                    client_id="nxc_" + random.token_urlsafe(12),
                    name=name,
                    secret_digest=secret.digest,
                    scopes=granted,
                ),
            )
            record(session, organization_id, user_id, "oauth_client.created", client.client_id)
            return client, secret.secret

    async def clients(self, organization_id: str) -> list[OAuthClient]:
        query = (
            select(OAuthClient)
            .where(OAuthClient.organization_id == organization_id)
            .order_by(OAuthClient.created_at.desc(), OAuthClient.id)
        )
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def revoke_client(self, organization_id: str, actor: str, id_: str) -> OAuthClient:
        id_ = validation.entity_id(id_)
        async with available(), self._store.sessions.begin() as session:
            client = await session.get(OAuthClient, id_)
            if client is None or client.organization_id != organization_id:
                raise NotFound(f"no OAuth client has the id {id_}.")
            if client.revoked_at is None:
                client.revoked_at = utc_now()
                record(session, organization_id, actor, "oauth_client.revoked", client.client_id)
            return client

    async def authenticate_client(
        self, client_id: str, secret: str
    ) -> tuple[OAuthClient, Plan] | None:
        """The live client with this id and secret, with its organisation's plan; else None."""
        async with available(), self._store.sessions.begin() as session:
            row = (
                await session.execute(
                    select(OAuthClient, Plan)
                    .join(Organization, Organization.id == OAuthClient.organization_id)
                    .join(Plan, Plan.name == Organization.plan)
                    .where(OAuthClient.client_id == client_id)
                )
            ).first()
            if row is None:
                credentials.digest(secret)  # the same work as a known client
                return None
            client, plan = row
            matches = random.compare_digest(client.secret_digest, credentials.digest(secret))
            if not matches or client.revoked_at is not None:
                record(session, client.organization_id, client.id, "oauth_client.failed_auth")
                return None
            record(session, client.organization_id, client.id, "oauth_client.token_issued")
            return client, plan
