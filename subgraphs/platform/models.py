"""The platform store's tables as SQLAlchemy 2 typed declarative models.

Every object a client creates (watchlists, API keys, OAuth clients, invitations, audit events)
belongs to an organisation; users belong to organisations through memberships with a role.

Portable column types only: the same models run on PostgreSQL and SQLite. Identifiers are UUIDs
kept as their canonical 36-character text, and times are stored and returned in UTC.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class InstrumentKind(enum.StrEnum):
    """What a watchlist item's key names, and so which subgraph owns the instrument."""

    TOKEN = "TOKEN"  # a crypto token symbol (crypto subgraph)
    STOCK = "STOCK"  # a stock ticker (micro subgraph)
    SERIES = "SERIES"  # a FRED series id (macro subgraph)


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, even on SQLite, which drops the offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    """A member's role in an organisation, from most to least powerful."""

    OWNER = "OWNER"  # everything, including the plan and other owners
    ADMIN = "ADMIN"  # members, keys, clients and the audit log
    MEMBER = "MEMBER"  # reads and writes the organisation's watchlists and own keys
    VIEWER = "VIEWER"  # reads only


class Base(DeclarativeBase):
    pass


class Plan(Base):
    """A price plan: the edge's limits and the invoice's prices (rows seeded by migration 0002)."""

    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cost_per_minute: Mapped[int] = mapped_column(Integer)
    max_operation_cost: Mapped[int] = mapped_column(Integer)
    max_subscriptions: Mapped[int] = mapped_column(Integer)
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated
    monthly_price_cents: Mapped[int] = mapped_column(Integer)  # USD cents
    overage_cents_per_1000: Mapped[int] = mapped_column(Integer)  # USD cents per 1,000 cost units


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("slug", name="uq_organizations_slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    plan: Mapped[str] = mapped_column(
        ForeignKey("plans.name", name="fk_organizations_plan"), default="free"
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Stored lower-cased, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    # `passwords.hash_password` output; the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    # The organisation the user signs in to when none is named.
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", name="fk_users_organization", ondelete="SET NULL"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_memberships_organization_user"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_memberships_organization", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", name="fk_memberships_user", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_invitations_organization", ondelete="CASCADE"),
        index=True,
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(8))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", name="fk_invitations_inviter", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """One refresh token; a sign-in starts a family, each refresh adds the next member."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", name="fk_refresh_tokens_user", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_refresh_tokens_organization", ondelete="CASCADE")
    )
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # rotated: reuse is theft
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_api_keys_organization", ondelete="CASCADE"),
        index=True,
    )
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", name="fk_api_keys_creator", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Runs only the organisation's trusted documents (see TrustedDocument).
    trusted_documents_only: Mapped[bool] = mapped_column(Boolean, default=False)


class TrustedDocument(Base):
    """An operation an organisation registered; keys restricted to trusted documents run only
    these, by SHA-256 of the document text."""

    __tablename__ = "trusted_documents"
    __table_args__ = (
        UniqueConstraint("organization_id", "sha256", name="uq_trusted_documents_hash"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey(
            "organizations.id", name="fk_trusted_documents_organization", ondelete="CASCADE"
        ),
        index=True,
    )
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", name="fk_trusted_documents_creator", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_oauth_clients_organization", ondelete="CASCADE"),
        index=True,
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", name="fk_audit_events_organization", ondelete="CASCADE"),
        index=True,
    )
    actor_id: Mapped[str | None] = mapped_column(String(36))  # a user or an OAuth client id
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(254))  # what was acted on: an id, an e-mail
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CatalogueInstrument(Base):
    """An instrument the market subgraphs are known to serve, learnt from the demo load and
    from their domain events (never read from their stores)."""

    __tablename__ = "instrument_catalogue"

    kind: Mapped[str] = mapped_column(String(6), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Watchlist(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_watchlists_owner_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", name="fk_watchlists_owner", ondelete="CASCADE")
    )
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_watchlists_organization", ondelete="CASCADE"),
        index=True,
    )
    # Readable by every caller, anonymous ones included (the demo's sample watchlist).
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class WatchlistItem(Base):
    __tablename__ = "watchlist_items"
    __table_args__ = (
        UniqueConstraint("watchlist_id", "kind", "key", name="uq_watchlist_items_kind_key"),
        CheckConstraint("kind IN ('TOKEN', 'STOCK', 'SERIES')", name="ck_watchlist_items_kind"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    watchlist_id: Mapped[str] = mapped_column(
        ForeignKey("watchlists.id", name="fk_watchlist_items_watchlist", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(6))
    # The symbol or FRED series id, upper-cased.
    key: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
