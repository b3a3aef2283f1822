"""The usage and invoice tables (migration 0003), beside the other platform models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from subgraphs.platform.models import Base, UTCDateTime, new_id, utc_now


class UsageEventRow(Base):
    """One metered operation, as the router's usage meter wrote it."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    organization_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(36))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    client_id: Mapped[str | None] = mapped_column(String(64))
    caller_kind: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(32))
    operation_name: Mapped[str | None] = mapped_column(String(200))
    estimated_cost: Mapped[int] = mapped_column(Integer)  # cost units
    actual_cost: Mapped[int] = mapped_column(Integer)  # cost units
    status: Mapped[str] = mapped_column(String(16))  # ok, error, refused, rate_limited


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("organization_id", "month", name="uq_invoices_organization_month"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", name="fk_invoices_organization", ondelete="CASCADE")
    )
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    plan: Mapped[str] = mapped_column(String(32))
    cost_units: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)  # USD cents
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(
        ForeignKey("invoices.id", name="fk_invoice_lines_invoice", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # USD cents
