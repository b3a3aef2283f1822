"""Usage and billing over the platform store: the router's usage meter writes here, organisations
read their usage by period, key or operation, and `nexus billing close-month` invoices a month.

Closing a month is one transaction: every organisation's invoice and lines are written together
or not at all, so an interrupted run leaves nothing behind; organisations already invoiced for
the month are skipped (and a unique (organisation, month) constraint guards concurrent runs), so
a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from nexus.errors import BadUserInput, Conflict
from nexus.stores.platform import PlatformStore, available
from nexus.usage import UsageEvent
from subgraphs.platform.billing_models import Invoice, InvoiceLine, UsageEventRow
from subgraphs.platform.models import ApiKey, Organization, new_id

BILLED_STATUSES = ("ok", "error")  # refused and rate-limited operations are not charged
MAX_USAGE_DAYS = 93
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # an API key's last_used_at, at most this stale
MAX_REMEMBERED_KEYS = 100_000  # keys whose last write the usage sink remembers
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class UsageGrouping(enum.Enum):
    DAY = "day"
    HOUR = "hour"
    API_KEY = "api_key"
    OPERATION = "operation"


@dataclass(frozen=True, slots=True)
class UsageTotal:
    key: str | None
    operations: int
    refused: int
    estimated_cost: int
    actual_cost: int


USAGE_TABLE = UsageEventRow.__tablename__
# The columns `PlatformUsageSink.write` fills, in the order of its rows (the id is generated).
USAGE_COLUMNS = (
    "at",
    "organization_id",
    "user_id",
    "api_key_id",
    "client_id",
    "caller_kind",
    "plan",
    "operation_name",
    "estimated_cost",
    "actual_cost",
    "status",
)


class PlatformUsageSink:
    """Where the router's `UsageMeter` writes: one multi-row INSERT per batch, and in the same
    transaction each API key's `last_used_at` (its latest use in the batch), at most once per
    `LAST_USED_RESOLUTION` per key from this process. The edge's key lookup stays a pure read."""

    def __init__(self, store: PlatformStore) -> None:
        self.store = store
        self._last_used: dict[str, dt.datetime] = {}  # key id -> last_used_at written by us

    async def write(self, events: Sequence[UsageEvent]) -> None:
        rows = [  # in USAGE_COLUMNS' order
            (
                e.at.astimezone(dt.UTC),
                e.organization_id,
                e.user_id,
                e.api_key_id,
                e.client_id,
                e.caller_kind,
                e.plan,
                (e.operation_name or "")[:200] or None,
                e.estimated_cost,
                e.actual_cost,
                e.status,
            )
            for e in events
        ]
        if not rows:
            return
        used = self._keys_to_touch(events)
        async with available(), self.store.sessions.begin() as session:
            connection = await session.connection()
            if connection.dialect.name == "postgresql":
                # COPY on the session's own connection, in its transaction (which SQLAlchemy's
                # asyncpg adapter begins at the first statement, hence the SELECT): asyncpg
                # sends the rows in the binary format, with no statement or bind processing
                # per row. The router's CPU per event: about a third of the executemany's.
                await connection.exec_driver_sql("SELECT 1")
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None and driver.is_in_transaction()
                await driver.copy_records_to_table(USAGE_TABLE, records=rows, columns=USAGE_COLUMNS)
            else:
                # Core, not the ORM's bulk insert: a plain executemany, no per-row ORM bookkeeping.
                await session.execute(
                    insert(cast(Table, UsageEventRow.__table__)),
                    [dict(zip(USAGE_COLUMNS, row, strict=True)) for row in rows],
                )
            if used:
                table = cast(Table, ApiKey.__table__)  # Core: a plain executemany
                keys = table.c
                await session.execute(
                    update(table)
                    .where(
                        keys.id == bindparam("used_key"),
                        or_(keys.last_used_at.is_(None), keys.last_used_at < bindparam("used_at")),
                    )
                    .values(last_used_at=bindparam("used_at")),
                    [{"used_key": key, "used_at": at} for key, at in sorted(used.items())],
                )
        self._last_used.update(used)  # committed

    def _keys_to_touch(self, events: Sequence[UsageEvent]) -> dict[str, dt.datetime]:
        """Each key's latest use in `events`, for the keys this sink has not written within
        `LAST_USED_RESOLUTION`."""
        latest: dict[str, dt.datetime] = {}
        for event in events:
            if event.api_key_id is not None:
                seen = latest.get(event.api_key_id)
                if seen is None or event.at > seen:
                    latest[event.api_key_id] = event.at
        if len(self._last_used) > MAX_REMEMBERED_KEYS:
            self._last_used.clear()  # at worst one more write per key
        return {
            key_id: at
            for key_id, at in latest.items()
            if (written := self._last_used.get(key_id)) is None
            or at - written >= LAST_USED_RESOLUTION
        }


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """`YYYY-MM` -> its first instant and the next month's, in UTC."""
    matched = _MONTH.fullmatch(month)
    if matched is None:
        raise BadUserInput(f"{month!r} is not a month; write it as YYYY-MM, e.g. 2026-11.")
    year, number = int(matched[1]), int(matched[2])
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


async def usage_totals(
    store: PlatformStore,
    organization_id: str,
    start: dt.datetime,
    end: dt.datetime,
    group_by: UsageGrouping,
) -> list[UsageTotal]:
    if end <= start:
        raise BadUserInput("`to` must be after `from`.", argument="to")
    if end - start > dt.timedelta(days=MAX_USAGE_DAYS):
        raise BadUserInput(f"Ask for at most {MAX_USAGE_DAYS} days at a time.", argument="to")
    dialect = store.engine.dialect.name
    key: Any
    match group_by:
        case UsageGrouping.API_KEY:
            key = UsageEventRow.api_key_id
        case UsageGrouping.OPERATION:
            key = UsageEventRow.operation_name
        case UsageGrouping.DAY | UsageGrouping.HOUR:
            pattern = "%Y-%m-%d" if group_by is UsageGrouping.DAY else "%Y-%m-%dT%H:00"
            if dialect == "sqlite":
                key = func.strftime(pattern, UsageEventRow.at)
            else:
                pg = "YYYY-MM-DD" if group_by is UsageGrouping.DAY else 'YYYY-MM-DD"T"HH24":00"'
                key = func.to_char(func.timezone("UTC", UsageEventRow.at), pg)
    billed = UsageEventRow.status.in_(BILLED_STATUSES)
    query = (
        select(
            key.label("key"),
            func.count().label("operations"),
            func.sum(case((billed, 0), else_=1)).label("refused"),
            func.coalesce(func.sum(UsageEventRow.estimated_cost), 0),
            func.coalesce(func.sum(UsageEventRow.actual_cost), 0),
        )
        .where(
            UsageEventRow.organization_id == organization_id,
            UsageEventRow.at >= start,
            UsageEventRow.at < end,
        )
        .group_by(key)
        .order_by(key.asc().nulls_first())
    )
    async with available(), store.sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        UsageTotal(row[0], int(row[1]), int(row[2] or 0), int(row[3]), int(row[4])) for row in rows
    ]


@dataclass(frozen=True, slots=True)
class ClosedMonth:
    month: str
    invoiced: int  # organisations invoiced by this run
    already: int  # organisations invoiced by an earlier run (left as they were)
    total_cents: int  # of this run's invoices, USD cents


async def close_month(
    store: PlatformStore, month: str, *, now: dt.datetime | None = None
) -> ClosedMonth:
    """Invoice every organisation for `month` (a month that has ended), in one transaction."""
    start, end = month_bounds(month)
    if end > (now or dt.datetime.now(dt.UTC)):
        raise BadUserInput(f"{month} has not ended yet; close it from {end:%Y-%m-%d}.")
    try:
        async with available(), store.sessions.begin() as session:
            plans = {
                row.name: row
                for row in await session.execute(
                    text(
                        "SELECT name, monthly_price_cents, overage_cents_per_1000, "
                        "included_cost_units FROM plans"
                    )
                )
            }
            invoiced = set(
                await session.scalars(select(Invoice.organization_id).where(Invoice.month == month))
            )
            usage = dict(
                (
                    await session.execute(
                        select(UsageEventRow.organization_id, func.sum(UsageEventRow.actual_cost))
                        .where(
                            UsageEventRow.at >= start,
                            UsageEventRow.at < end,
                            UsageEventRow.status.in_(BILLED_STATUSES),
                            UsageEventRow.organization_id.is_not(None),
                        )
                        .group_by(UsageEventRow.organization_id)
                    )
                ).all()
            )
            organizations = (
                await session.execute(
                    select(Organization.id, Organization.plan).where(Organization.created_at < end)
                )
            ).all()
            count, total = 0, 0
            for organization_id, plan_name in organizations:
                if organization_id in invoiced:
                    continue
                plan = plans[plan_name]
                units = int(usage.get(organization_id) or 0)
                invoice, lines = _invoice(organization_id, month, plan, units)
                session.add(invoice)
                await session.flush()
                session.add_all(lines)
                count += 1
                total += invoice.total_cents
    except IntegrityError as error:  # another run closed the month at the same time
        raise Conflict(f"{month} is being closed by another run; run again to check.") from error
    return ClosedMonth(month, count, len(invoiced), total)


def _invoice(
    organization_id: str, month: str, plan: Any, units: int
) -> tuple[Invoice, list[InvoiceLine]]:
    included = int(plan.included_cost_units)
    over = max(0, units - included)
    thousands = math.ceil(over / 1000)
    overage_cents = thousands * int(plan.overage_cents_per_1000)
    price = int(plan.monthly_price_cents)
    invoice = Invoice(
        id=new_id(),
        organization_id=organization_id,
        month=month,
        plan=plan.name,
        cost_units=units,
        total_cents=price + overage_cents,
    )
    lines = [
        InvoiceLine(
            invoice_id=invoice.id,
            position=1,
            description=f"{plan.name} plan, {month}",
            quantity=1,
            amount_cents=price,
        ),
        InvoiceLine(
            invoice_id=invoice.id,
            position=2,
            description=f"Usage: {units:,} cost units ({included:,} included)",
            quantity=units,
            amount_cents=0,
        ),
        InvoiceLine(
            invoice_id=invoice.id,
            position=3,
            description=f"Overage: {over:,} cost units, {thousands:,} started thousands at "
            f"{int(plan.overage_cents_per_1000)} cents",
            quantity=thousands,
            amount_cents=overage_cents,
        ),
    ]
    return invoice, lines


async def invoices_of(
    store: PlatformStore, organization_id: str
) -> list[tuple[Invoice, list[InvoiceLine]]]:
    """The organisation's invoices, newest month first, with their lines in order."""
    async with available(), store.sessions() as session:
        invoices = list(
            await session.scalars(
                select(Invoice)
                .where(Invoice.organization_id == organization_id)
                .order_by(Invoice.month.desc())
            )
        )
        lines = list(
            await session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id.in_([i.id for i in invoices]))
                .order_by(InvoiceLine.position)
            )
        )
    by_invoice: dict[str, list[InvoiceLine]] = {}
    for line in lines:
        by_invoice.setdefault(line.invoice_id, []).append(line)
    return [(invoice, by_invoice.get(invoice.id, [])) for invoice in invoices]
