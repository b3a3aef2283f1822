"""The platform store's tables as SQLAlchemy 2 typed declarative models.

Portable column types only: the same models run on PostgreSQL and SQLite. Identifiers are UUIDs
kept as their canonical 36-character text, and times are stored and returned in UTC.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
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


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("slug", name="uq_organizations_slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Stored lower-cased, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    # `passwords.hash_password` output; the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", name="fk_users_organization", ondelete="SET NULL"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Watchlist(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_watchlists_owner_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", name="fk_watchlists_owner", ondelete="CASCADE")
    )
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
