"""The platform's usage and invoice fields (`usage`, `invoices`), read by organisation members
whose key or token carries the `usage:read` scope."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Authenticated, RequiresScopes
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.errors import Forbidden
from subgraphs.platform import billing

USAGE_SCOPE = "usage:read"
# Enforced by the router before any fetch (and checked again here, for direct calls).
REQUIRES_USAGE = RequiresScopes(scopes=[[USAGE_SCOPE]])


@strawberry.enum(description="How `usage` groups the organisation's operations.")
class UsageGrouping(enum.Enum):
    DAY = strawberry.enum_value("day", description="By UTC day (`2026-11-30`).")
    HOUR = strawberry.enum_value("hour", description="By UTC hour (`2026-11-30T14:00`).")
    API_KEY = strawberry.enum_value(
        "api_key", description="By the API key's id (null: tokens and OAuth clients)."
    )
    OPERATION = strawberry.enum_value(
        "operation", description="By operation name (null: anonymous operations)."
    )


@strawberry.type(description="The organisation's operations in one group of a `usage` query.")
class UsageBucket:
    key: str | None = strawberry.field(
        description="The group: a UTC day or hour, an API key id or an operation name."
    )
    operations: int = strawberry.field(description="Operations received, refused ones included.")
    refused: int = strawberry.field(
        description="Operations refused by demand control (over the plan's maximum or budget)."
    )
    estimated_cost: int = strawberry.field(
        description="Sum of the operations' estimated costs, in cost units."
    )
    actual_cost: int = strawberry.field(
        description="Sum of the costs of the responses actually sent, in cost units (billed)."
    )


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str = strawberry.field(description="What the line charges for.")
    quantity: int = strawberry.field(
        description="How many: 1 for the plan, cost units for usage, started thousands of cost "
        "units for overage."
    )
    amount_cents: int = strawberry.field(description="The line's amount, in USD cents.")


@strawberry.type(description="The organisation's invoice for one calendar month (UTC).")
class Invoice:
    id: strawberry.ID = strawberry.field(description="The invoice's id.")
    month: str = strawberry.field(description="The month invoiced, as YYYY-MM.")
    plan: str = strawberry.field(description="The plan the month was billed at.")
    cost_units: int = strawberry.field(
        description="Cost units the organisation's operations used in the month."
    )
    total_cents: int = strawberry.field(description="The amount due, in USD cents.")
    created_at: dt.datetime = strawberry.field(description="When the month was closed (UTC).")
    lines: list[InvoiceLine] = strawberry.field(
        description="The plan's price, the usage, and the overage beyond the included units.",
        directives=[assumed_size(3)],
    )


def _usage_reader(info: Info) -> None:
    if USAGE_SCOPE not in info.context.caller.scopes:
        raise Forbidden(f"This needs the {USAGE_SCOPE} scope.")


@strawberry.type
class BillingQuery:
    @strawberry.field(
        description="The organisation's operations between `from` and `to` (at most 93 days), "
        "grouped by `groupBy`, in key order (null first).",
        directives=[assumed_size(31), Authenticated(), REQUIRES_USAGE],
    )
    async def usage(
        self,
        info: Info,
        from_: Annotated[
            dt.datetime, strawberry.argument(name="from", description="Start, inclusive (UTC).")
        ],
        to: Annotated[dt.datetime, strawberry.argument(description="End, exclusive (UTC).")],
        group_by: Annotated[
            UsageGrouping, strawberry.argument(description="How to group the operations.")
        ] = UsageGrouping.DAY,
    ) -> list[UsageBucket]:
        tenant = await info.context.reader()
        _usage_reader(info)
        totals = await billing.usage_totals(
            info.context.store,
            tenant.organization_id,
            _utc(from_),
            _utc(to),
            billing.UsageGrouping(group_by.value),
        )
        return [
            UsageBucket(
                key=t.key,
                operations=t.operations,
                refused=t.refused,
                estimated_cost=t.estimated_cost,
                actual_cost=t.actual_cost,
            )
            for t in totals
        ]

    @strawberry.field(
        description="The organisation's invoices, newest month first.",
        directives=[assumed_size(12), Authenticated(), REQUIRES_USAGE],
    )
    async def invoices(self, info: Info) -> list[Invoice]:
        tenant = await info.context.reader()
        _usage_reader(info)
        rows = await billing.invoices_of(info.context.store, tenant.organization_id)
        return [
            Invoice(
                id=strawberry.ID(invoice.id),
                month=invoice.month,
                plan=invoice.plan,
                cost_units=invoice.cost_units,
                total_cents=invoice.total_cents,
                created_at=invoice.created_at,
                lines=[
                    InvoiceLine(
                        description=line.description,
                        quantity=line.quantity,
                        amount_cents=line.amount_cents,
                    )
                    for line in lines
                ],
            )
            for invoice, lines in rows
        ]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
