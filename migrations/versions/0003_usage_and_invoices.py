"""Usage and invoices: every metered operation (`usage_events`), each plan's monthly included
cost units, and the monthly invoices with their line items (one per organisation and month).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Cost units a plan's monthly price includes; beyond them each 1,000 units costs the plan's
# `overage_cents_per_1000`.
INCLUDED = {"anonymous": 0, "free": 1_000_000, "pro": 20_000_000, "enterprise": 500_000_000}


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("included_cost_units", sa.BigInteger(), nullable=False, server_default="0")
        )
    plans = sa.table("plans", sa.column("name", sa.String), sa.column("included_cost_units"))
    for name, units in INCLUDED.items():
        op.execute(plans.update().where(plans.c.name == name).values(included_cost_units=units))
    op.create_table(
        "usage_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=True),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("api_key_id", sa.String(36), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("caller_kind", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("operation_name", sa.String(200), nullable=True),
        sa.Column("estimated_cost", sa.Integer(), nullable=False),
        sa.Column("actual_cost", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_usage_events_organization_at", "usage_events", ["organization_id", "at"])
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "organization_id",
            sa.String(36),
            sa.ForeignKey("organizations.id", name="fk_invoices_organization", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("cost_units", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organization_id", "month", name="uq_invoices_organization_month"),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "invoice_id",
            sa.String(36),
            sa.ForeignKey("invoices.id", name="fk_invoice_lines_invoice", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.drop_index("ix_usage_events_organization_at", table_name="usage_events")
    op.drop_table("usage_events")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("included_cost_units")
