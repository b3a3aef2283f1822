"""Trusted documents: operations an organisation registers (`trusted_documents`, by SHA-256 of
the document), and API keys restricted to them (`api_keys.trusted_documents_only`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column(
                "trusted_documents_only", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "trusted_documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "organization_id",
            sa.String(36),
            sa.ForeignKey(
                "organizations.id", name="fk_trusted_documents_organization", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column(
            "created_by",
            sa.String(36),
            sa.ForeignKey("users.id", name="fk_trusted_documents_creator", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organization_id", "sha256", name="uq_trusted_documents_hash"),
    )
    op.create_index(
        "ix_trusted_documents_organization_id", "trusted_documents", ["organization_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_trusted_documents_organization_id", "trusted_documents")
    op.drop_table("trusted_documents")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("trusted_documents_only")
