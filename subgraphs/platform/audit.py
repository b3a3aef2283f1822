"""The audit log of security events: sign-ins, failed sign-ins, keys, clients, roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexus.stores.platform import PlatformStore, available
from subgraphs.platform.models import AuditEvent

MAX_EVENTS = 500


def record(
    session: AsyncSession,
    organization_id: str | None,
    actor_id: str | None,
    action: str,
    target: str | None = None,
    address: str | None = None,
) -> None:
    """Adds one event to the session's transaction: it is kept only if the change is."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            actor_id=actor_id,
            action=action,
            target=None if target is None else target[:254],
            address=None if address is None else address[:64],
        )
    )


async def events(store: PlatformStore, organization_id: str, limit: int) -> list[AuditEvent]:
    """The organisation's latest `limit` events, newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.organization_id == organization_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id)
        .limit(max(1, min(limit, MAX_EVENTS)))
    )
    async with available(), store.sessions() as session:
        return list((await session.scalars(query)).all())
