"""Accounts: sign-up, sign-in, refresh-token rotation, organisations, members and invitations.

Passwords are hashed and checked with scrypt in a worker thread (16 MiB and tens of ms each),
never on the event loop. Refresh tokens rotate: each use marks the token used and issues the
next of its family; presenting a used token again means it was stolen, so the whole family is
revoked and the caller must sign in again.
"""

from __future__ import annotations

import functools
import secrets as random
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nexus.auth import secrets
from nexus.auth.authenticator import publish_revocation
from nexus.auth.errors import AuthenticationError
from nexus.errors import BadUserInput, Conflict, Forbidden, NotFound
from nexus.stores.bus import Bus
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import validation
from subgraphs.platform.audit import record
from subgraphs.platform.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    RefreshToken,
    Role,
    User,
    new_id,
    utc_now,
)
from subgraphs.platform.passwords import hash_password, verify_password
from subgraphs.platform.repository import insert

INVITATION_DAYS = 7


@functools.cache
def _decoy_hash() -> str:
    """Checked against when the e-mail is unknown: a miss costs what a wrong password costs."""
    return hash_password("not a password anyone has")


@dataclass(frozen=True, slots=True)
class Session:
    """Who signed in, where, as what: what an access token is made from."""

    user: User
    organization: Organization
    role: Role
    refresh_token: str  # shown once
    refresh_expires_at: datetime


class Accounts:
    def __init__(self, store: PlatformStore, refresh_seconds: int, bus: Bus | None = None) -> None:
        self._store = store
        self._bus = bus  # where revoked API keys are announced to every authenticator
        self._refresh_lifetime = timedelta(seconds=refresh_seconds)

    async def sign_up(
        self,
        email: str,
        password: str,
        display_name: str,
        organization_name: str | None,
        address: str | None,
    ) -> Session:
        """A new user, owner of a new organisation, signed in."""
        email = validation.email(email)
        display_name = validation.name(display_name, field="displayName")
        validation.password(password)
        organization_name = validation.name(
            organization_name or f"{display_name}'s organisation", field="organizationName"
        )
        password_hash = await anyio.to_thread.run_sync(hash_password, password)
        async with available(), self._store.sessions.begin() as session:
            if await session.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict("this email is already registered; sign in instead.")
            organization = await new_organization(session, organization_name, None, suffix=True)
            user = await insert(
                session,
                User(
                    email=email,
                    display_name=display_name,
                    password_hash=password_hash,
                    organization_id=organization.id,
                ),
            )
            await insert(
                session,
                Membership(organization_id=organization.id, user_id=user.id, role=Role.OWNER),
            )
            record(session, organization.id, user.id, "user.signed_up", email, address)
            return await self._start(session, user, organization, Role.OWNER)

    async def check_password(self, email: str, password: str) -> User | None:
        """The user whose e-mail and password these are, else None (in constant-ish time)."""
        async with available(), self._store.sessions() as session:
            user = await session.scalar(select(User).where(User.email == email))
        stored = _decoy_hash() if user is None else user.password_hash
        matches = await anyio.to_thread.run_sync(verify_password, password, stored)
        return user if matches and user is not None else None

    async def record_failed_sign_in(self, email: str, address: str | None) -> None:
        async with available(), self._store.sessions.begin() as session:
            user = await session.scalar(select(User).where(User.email == email))
            organization_id = None if user is None else user.organization_id
            record(session, organization_id, None, "user.sign_in_failed", email, address)

    async def sign_in(
        self, user: User, organization_id: str | None, address: str | None
    ) -> Session:
        """A session for `user` (whose password was checked) in one of its organisations."""
        async with available(), self._store.sessions.begin() as session:
            query = select(Membership).where(Membership.user_id == user.id)
            wanted = organization_id or user.organization_id
            if wanted is not None:
                query = query.where(Membership.organization_id == wanted)
            membership = await session.scalar(query.order_by(Membership.created_at).limit(1))
            if membership is None:
                raise Forbidden("You are not a member of that organisation.")
            organization = await session.get(Organization, membership.organization_id)
            assert organization is not None  # the foreign key cascades
            record(session, organization.id, user.id, "user.signed_in", user.email, address)
            return await self._start(session, user, organization, Role(membership.role))

    async def refresh(self, refresh_token: str) -> Session:
        """The next session of the refresh token's family; reuse revokes the family."""
        now = utc_now()
        async with available(), self._store.sessions.begin() as session:
            token = await session.scalar(
                select(RefreshToken).where(
                    RefreshToken.token_digest == secrets.digest(refresh_token)
                )
            )
            if token is None or token.revoked_at is not None or token.expires_at <= now:
                raise AuthenticationError("The refresh token is not valid; sign in again.")
            membership = await session.scalar(
                select(Membership).where(
                    Membership.user_id == token.user_id,
                    Membership.organization_id == token.organization_id,
                )
            )
            user = await session.get(User, token.user_id)
            organization = await session.get(Organization, token.organization_id)
            if membership and user and organization and await _mark_used(session, token.id, now):
                return await self._start(
                    session, user, organization, Role(membership.role), family_id=token.family_id
                )
            # A used token presented again was copied: end every session of its family.
            await _revoke_family(session, token.family_id, now)
            action = "token.reused" if membership and user and organization else "token.member_gone"
            record(session, token.organization_id, token.user_id, action)
        raise AuthenticationError("The refresh token is no longer valid; sign in again.")

    async def sign_out(self, refresh_token: str) -> bool:
        """Revokes the refresh token's family; False when the token is unknown."""
        async with available(), self._store.sessions.begin() as session:
            token = await session.scalar(
                select(RefreshToken).where(
                    RefreshToken.token_digest == secrets.digest(refresh_token)
                )
            )
            if token is None:
                return False
            await _revoke_family(session, token.family_id, utc_now())
            record(session, token.organization_id, token.user_id, "user.signed_out", None, None)
            return True

    async def _start(
        self,
        session: AsyncSession,
        user: User,
        organization: Organization,
        role: Role,
        *,
        family_id: str | None = None,
    ) -> Session:
        created = secrets.new_refresh_token()
        expires_at = utc_now() + self._refresh_lifetime
        session.add(
            RefreshToken(
                user_id=user.id,
                organization_id=organization.id,
                family_id=family_id or new_id(),
                token_digest=created.digest,
                expires_at=expires_at,
            )
        )
        return Session(user, organization, role, created.secret, expires_at)

    # Organisations and members.

    async def create_organization(self, user_id: str, name: str, slug: str | None) -> Organization:
        """A new organisation owned by `user_id`."""
        name = validation.name(name)
        async with available(), self._store.sessions.begin() as session:
            organization = await new_organization(session, name, slug)
            session.add(
                Membership(organization_id=organization.id, user_id=user_id, role=Role.OWNER)
            )
            record(session, organization.id, user_id, "organization.created", organization.slug)
            return organization

    async def memberships_of(self, user_id: str) -> list[tuple[Membership, Organization]]:
        query = (
            select(Membership, Organization)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Organization.id)
        )
        async with available(), self._store.sessions() as session:
            return [(membership, org) for membership, org in await session.execute(query)]

    async def role(self, organization_id: str, user_id: str) -> Role | None:
        async with available(), self._store.sessions() as session:
            role = await session.scalar(
                select(Membership.role).where(
                    Membership.organization_id == organization_id, Membership.user_id == user_id
                )
            )
        return None if role is None else Role(role)

    async def invite(
        self, organization_id: str, inviter_id: str, email: str, role: Role
    ) -> tuple[Invitation, str]:
        """A pending invitation and its token (shown once, stored hashed)."""
        email = validation.email(email)
        created = secrets.new_secret(secrets.INVITATION_PREFIX)
        async with available(), self._store.sessions.begin() as session:
            member = await session.scalar(
                select(Membership.id)
                .join(User, User.id == Membership.user_id)
                .where(Membership.organization_id == organization_id, User.email == email)
            )
            if member is not None:
                raise Conflict(f"{email} is already a member of this organisation.")
            invitation = await insert(
                session,
                Invitation(
                    organization_id=organization_id,
                    email=email,
                    role=role,
                    token_digest=created.digest,
                    invited_by=inviter_id,
                    expires_at=utc_now() + timedelta(days=INVITATION_DAYS),
                ),
            )
            record(session, organization_id, inviter_id, "member.invited", email)
            return invitation, created.secret

    async def pending_invitations(self, organization_id: str) -> list[Invitation]:
        query = (
            select(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utc_now(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def cancel_invitation(self, organization_id: str, actor: str, id_: str) -> str:
        id_ = validation.entity_id(id_)
        async with available(), self._store.sessions.begin() as session:
            invitation = await session.get(Invitation, id_)
            if (
                invitation is None
                or invitation.organization_id != organization_id
                or invitation.accepted_at is not None
            ):
                raise NotFound(f"no pending invitation has the id {id_}.")
            await session.delete(invitation)
            record(session, organization_id, actor, "member.invitation_cancelled", invitation.email)
            return id_

    async def accept_invitation(self, user_id: str, token: str) -> Organization:
        """Joins the invitation's organisation, when it was sent to this user's e-mail."""
        async with available(), self._store.sessions.begin() as session:
            invitation = await session.scalar(
                select(Invitation).where(Invitation.token_digest == secrets.digest(token))
            )
            user = await session.get(User, user_id)
            if (
                invitation is None
                or user is None
                or invitation.email != user.email
                or invitation.accepted_at is not None
                or invitation.expires_at <= utc_now()
            ):
                raise NotFound("no pending invitation for you has this token.")
            joined = await session.scalar(
                select(Membership.id).where(
                    Membership.organization_id == invitation.organization_id,
                    Membership.user_id == user_id,
                )
            )
            if joined is None:
                session.add(
                    Membership(
                        organization_id=invitation.organization_id,
                        user_id=user_id,
                        role=invitation.role,
                    )
                )
            invitation.accepted_at = utc_now()
            record(session, invitation.organization_id, user_id, "member.joined", user.email)
            organization = await session.get(Organization, invitation.organization_id)
            assert organization is not None
            return organization

    async def change_role(
        self, organization_id: str, actor: str, actor_role: Role, user_id: str, role: Role
    ) -> Membership:
        user_id = validation.entity_id(user_id, field="userId")
        async with available(), self._store.sessions.begin() as session:
            membership = await _membership(session, organization_id, user_id)
            touches_owner = Role.OWNER in (role, Role(membership.role))
            if touches_owner and actor_role is not Role.OWNER:
                raise Forbidden("Only an owner may make or unmake an owner.")
            if membership.role == Role.OWNER and role is not Role.OWNER:
                await _keep_an_owner(session, organization_id)
            membership.role = role
            record(session, organization_id, actor, "member.role_changed", f"{user_id} {role}")
            return membership

    async def remove_member(
        self, organization_id: str, actor: str, actor_role: Role, user_id: str
    ) -> str:
        user_id = validation.entity_id(user_id, field="userId")
        async with available(), self._store.sessions.begin() as session:
            membership = await _membership(session, organization_id, user_id)
            if membership.role == Role.OWNER:
                if actor_role is not Role.OWNER:
                    raise Forbidden("Only an owner may remove an owner.")
                await _keep_an_owner(session, organization_id)
            await session.delete(membership)
            # Their sessions in this organisation end now, not when the refresh token expires,
            # and the API keys they made (which act for them) stop now: announced below.
            their_keys = (
                ApiKey.created_by == user_id,
                ApiKey.organization_id == organization_id,
                ApiKey.revoked_at.is_(None),
            )
            revoked = list((await session.scalars(select(ApiKey.id).where(*their_keys))).all())
            await session.execute(update(ApiKey).where(*their_keys).values(revoked_at=utc_now()))
            await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.user_id == user_id,
                    RefreshToken.organization_id == organization_id,
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=utc_now())
            )
            record(session, organization_id, actor, "member.removed", user_id)
        await publish_revocation(self._bus, revoked)  # committed: the store already refuses them
        return user_id


async def new_organization(
    session: AsyncSession, name: str, slug: str | None, *, suffix: bool = False
) -> Organization:
    """A new organisation; with `suffix`, a taken slug gets a random ending instead of failing."""
    slug = validation.slug_from(name) if slug is None else validation.slug(slug)
    taken = await session.scalar(select(Organization.id).where(Organization.slug == slug))
    if taken is not None and suffix:
        slug = validation.slug(f"{slug[:56]}-{random.token_hex(3)}")
        taken = None
    if taken is not None:
        raise Conflict(f"an organization already uses the slug {slug!r}; choose another.")
    return await insert(session, Organization(name=name, slug=slug))


async def _membership(session: AsyncSession, organization_id: str, user_id: str) -> Membership:
    membership = await session.scalar(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound(f"no member of this organisation has the id {user_id}.")
    return membership


async def _keep_an_owner(session: AsyncSession, organization_id: str) -> None:
    owners = await session.scalar(
        select(func.count()).where(
            Membership.organization_id == organization_id, Membership.role == Role.OWNER
        )
    )
    if (owners or 0) <= 1:
        raise BadUserInput("an organisation keeps at least one owner; make another owner first.")


async def _mark_used(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Marks the token used unless it already is: of two concurrent refreshes with one token,
    exactly one wins (a conditional UPDATE, atomic on every backend)."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def _revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
