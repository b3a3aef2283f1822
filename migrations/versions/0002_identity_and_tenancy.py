"""Identity and tenancy: plans, memberships with roles, invitations, refresh tokens, API keys,
OAuth clients, the audit log, the instrument catalogue; watchlists owned by organisations.

Existing rows are carried over: each organisation's first user becomes its owner and the others
members; a user with no organisation gets a personal one; each watchlist belongs to its owner's
organisation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_SCOPES = "market:read platform:read platform:write usage:read"
# name, cost/minute, max cost/operation, subscriptions, scopes, USD cents/month, cents per 1,000
PLANS = [
    ("anonymous", 1_000, 500, 5, "market:read", 0, 0),
    ("free", 10_000, 2_000, 10, ALL_SCOPES, 0, 0),
    ("pro", 100_000, 20_000, 100, ALL_SCOPES, 4_900, 10),
    ("enterprise", 1_000_000, 200_000, 1_000, ALL_SCOPES, 49_900, 5),
]


def _id(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), primary_key=True)


def _organization(table: str, *, nullable: bool = False, index: bool = True) -> sa.Column[str]:
    return sa.Column(
        "organization_id",
        sa.String(36),
        sa.ForeignKey("organizations.id", name=f"fk_{table}_organization", ondelete="CASCADE"),
        nullable=nullable,
        index=index,
    )


def _when(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("cost_per_minute", sa.Integer(), nullable=False),
        sa.Column("max_operation_cost", sa.Integer(), nullable=False),
        sa.Column("max_subscriptions", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("monthly_price_cents", sa.Integer(), nullable=False),
        sa.Column("overage_cents_per_1000", sa.Integer(), nullable=False),
    )
    columns = [column.name for column in plans.columns]
    op.bulk_insert(plans, [dict(zip(columns, row, strict=True)) for row in PLANS])
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column(
                "plan",
                sa.String(32),
                sa.ForeignKey("plans.name", name="fk_organizations_plan"),
                nullable=False,
                server_default="free",
            )
        )
    op.create_table(
        "memberships",
        _id("id"),
        _organization("memberships", index=False),
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", name="fk_memberships_user", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("role", sa.String(8), nullable=False),
        _when("created_at", nullable=False),
        sa.UniqueConstraint("organization_id", "user_id", name="uq_memberships_organization_user"),
        sa.CheckConstraint(
            "role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')", name="ck_memberships_role"
        ),
    )
    op.create_table(
        "invitations",
        _id("id"),
        _organization("invitations"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "invited_by",
            sa.String(36),
            sa.ForeignKey("users.id", name="fk_invitations_inviter", ondelete="SET NULL"),
            nullable=True,
        ),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("accepted_at"),
    )
    op.create_table(
        "refresh_tokens",
        _id("id"),
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", name="fk_refresh_tokens_user", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        _organization("refresh_tokens", index=False),
        sa.Column("family_id", sa.String(36), nullable=False, index=True),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("used_at"),
        _when("revoked_at"),
    )
    op.create_table(
        "api_keys",
        _id("id"),
        _organization("api_keys"),
        sa.Column(
            "created_by",
            sa.String(36),
            sa.ForeignKey("users.id", name="fk_api_keys_creator", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(500), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at"),
        _when("last_used_at"),
        _when("revoked_at"),
    )
    op.create_table(
        "oauth_clients",
        _id("id"),
        _organization("oauth_clients"),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        _when("created_at", nullable=False),
        _when("revoked_at"),
    )
    op.create_table(
        "audit_events",
        _id("id"),
        _organization("audit_events", nullable=True),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(254), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        _when("at", nullable=False),
    )
    op.create_table(
        "instrument_catalogue",
        sa.Column("kind", sa.String(6), primary_key=True),
        sa.Column("key", sa.String(20), primary_key=True),
        _when("added_at", nullable=False),
        sa.CheckConstraint("kind IN ('TOKEN', 'STOCK', 'SERIES')", name="ck_catalogue_kind"),
    )
    with op.batch_alter_table("watchlists") as batch:
        batch.add_column(sa.Column("organization_id", sa.String(36), nullable=True))
        batch.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _carry_over_users_and_watchlists()
    with op.batch_alter_table("watchlists") as batch:
        batch.alter_column("organization_id", existing_type=sa.String(36), nullable=False)
        batch.create_foreign_key(
            "fk_watchlists_organization",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_watchlists_organization_id", ["organization_id"])


def _carry_over_users_and_watchlists() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    users = connection.execute(
        sa.text("SELECT id, email, organization_id FROM users ORDER BY created_at, id")
    ).all()
    owned: set[str] = set()
    for user_id, email, organization_id in users:
        if organization_id is None:
            organization_id = str(uuid.uuid4())
            local = re.sub(r"[^a-z0-9]+", "-", email.split("@")[0].lower()).strip("-") or "user"
            slug = f"{local[:40]}-{organization_id[:8]}"
            connection.execute(
                sa.text(
                    "INSERT INTO organizations (id, name, slug, created_at, plan) "
                    "VALUES (:id, :name, :slug, :now, 'free')"
                ),
                {"id": organization_id, "name": email, "slug": slug, "now": now},
            )
            connection.execute(
                sa.text("UPDATE users SET organization_id = :org WHERE id = :id"),
                {"org": organization_id, "id": user_id},
            )
        role = "MEMBER" if organization_id in owned else "OWNER"
        owned.add(organization_id)
        connection.execute(
            sa.text(
                "INSERT INTO memberships (id, organization_id, user_id, role, created_at) "
                "VALUES (:id, :org, :user, :role, :now)"
            ),
            {
                "id": str(uuid.uuid4()),
                "org": organization_id,
                "user": user_id,
                "role": role,
                "now": now,
            },
        )
        connection.execute(
            sa.text("UPDATE watchlists SET organization_id = :org WHERE owner_id = :user"),
            {"org": organization_id, "user": user_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("watchlists") as batch:
        batch.drop_index("ix_watchlists_organization_id")
        batch.drop_constraint("fk_watchlists_organization", type_="foreignkey")
        batch.drop_column("public")
        batch.drop_column("organization_id")
    for table in (
        "instrument_catalogue",
        "audit_events",
        "oauth_clients",
        "api_keys",
        "refresh_tokens",
        "invitations",
        "memberships",
    ):
        op.drop_table(table)
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint("fk_organizations_plan", type_="foreignkey")
        batch.drop_column("plan")
    op.drop_table("plans")
