"""Usage metering into the platform store, the `usage` and `invoices` queries, and closing a
month: invoices with line items, idempotent, all or nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text, update

from graph.edge.usage import UsageMeter
from nexus.auth.authenticator import Authenticator
from nexus.errors import BadUserInput
from nexus.stores.platform import PlatformStore
from nexus.usage import UsageEvent
from subgraphs.platform.billing import PlatformUsageSink, close_month
from subgraphs.platform.billing_models import Invoice, InvoiceLine
from subgraphs.platform.models import Organization
from tests.platform.conftest import GraphQL, codes, sign_up

NOVEMBER = dt.datetime(2026, 11, 10, 12, 30, tzinfo=dt.UTC)
AFTER_NOVEMBER = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)

USAGE = """
query Usage($from: DateTime!, $to: DateTime!, $by: UsageGrouping!) {
  usage(from: $from, to: $to, groupBy: $by) {
    key operations refused estimatedCost actualCost
  }
}
"""
INVOICES = (
    "{ invoices { month plan costUnits totalCents lines { description quantity amountCents } } }"
)


def _event(
    caller: object, at: dt.datetime, actual: int, status: str = "ok", name: str = "Q"
) -> UsageEvent:
    event = UsageEvent.of(caller, name, actual + 1, actual, status)  # type: ignore[arg-type]
    return replace(event, at=at)


async def _founded_in_october(store: PlatformStore) -> None:
    """Organisations created before November (those created later are not billed for it)."""
    async with store.sessions.begin() as session:
        await session.execute(
            update(Organization).values(created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
        )


async def _meter(store: PlatformStore, events: list[UsageEvent]) -> None:
    meter = UsageMeter(PlatformUsageSink(store), batch_size=3)
    for event in events:
        meter.record(event)
    await meter.close()
    assert meter.written == len(events)


async def test_metered_usage_reads_back_by_day_key_and_operation(
    store: PlatformStore, graphql: GraphQL, authenticator: Authenticator
) -> None:
    ada = await sign_up(graphql, authenticator)
    other = await sign_up(graphql, authenticator, email="bob@example.com")
    keyed = replace(ada.caller, kind="api_key", api_key_id="key-7")
    await _meter(
        store,
        [
            _event(ada.caller, NOVEMBER, 10, name="Board"),
            _event(keyed, NOVEMBER + dt.timedelta(hours=1), 5, name="Board"),
            _event(keyed, NOVEMBER + dt.timedelta(days=1), 0, "rate_limited", name="Chart"),
            _event(other.caller, NOVEMBER, 1000),  # another organisation's
        ],
    )
    window = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    by_day = await graphql(USAGE, ada.caller, by="DAY", **window)
    assert by_day.errors is None, by_day.errors
    assert by_day.data == {
        "usage": [
            {
                "key": "2026-11-10",
                "operations": 2,
                "refused": 0,
                "estimatedCost": 17,
                "actualCost": 15,
            },
            {
                "key": "2026-11-11",
                "operations": 1,
                "refused": 1,
                "estimatedCost": 1,
                "actualCost": 0,
            },
        ]
    }
    by_key = await graphql(USAGE, ada.caller, by="API_KEY", **window)
    assert [(b["key"], b["actualCost"]) for b in by_key.data["usage"]] == [  # type: ignore[index]
        (None, 10),
        ("key-7", 5),
    ]
    by_operation = await graphql(USAGE, ada.caller, by="OPERATION", **window)
    assert [b["key"] for b in by_operation.data["usage"]] == ["Board", "Chart"]  # type: ignore[index]


async def test_usage_needs_a_member_with_the_usage_scope(
    graphql: GraphQL, authenticator: Authenticator
) -> None:
    ada = await sign_up(graphql, authenticator)
    window = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "by": "DAY"}
    assert codes(await graphql(USAGE, **window)) == ["UNAUTHENTICATED"]
    narrow = replace(ada.caller, scopes=frozenset({"platform:read"}))
    assert codes(await graphql(USAGE, narrow, **window)) == ["FORBIDDEN"]
    too_long = {**window, "to": "2027-06-01T00:00:00Z"}
    assert codes(await graphql(USAGE, ada.caller, **too_long)) == ["BAD_USER_INPUT"]


async def test_closing_a_month_invoices_plan_price_and_overage_once(
    store: PlatformStore, graphql: GraphQL, authenticator: Authenticator
) -> None:
    ada = await sign_up(graphql, authenticator)
    await _founded_in_october(store)
    async with store.sessions.begin() as session:
        await session.execute(
            update(Organization).where(Organization.id == ada.organization_id).values(plan="pro")
        )
    # pro: USD 49.00 a month with 20,000,000 cost units, then 10 cents per started 1,000
    await _meter(
        store,
        [
            _event(ada.caller, NOVEMBER, 19_000_000),
            _event(ada.caller, NOVEMBER, 1_234_567),
            _event(ada.caller, NOVEMBER, 500_000, "refused"),  # not charged
            _event(ada.caller, AFTER_NOVEMBER, 7_000_000),  # December's
        ],
    )
    closed = await close_month(store, "2026-11", now=AFTER_NOVEMBER)
    assert closed.invoiced >= 1
    invoices = await graphql(INVOICES, ada.caller)
    assert invoices.errors is None, invoices.errors
    assert invoices.data == {
        "invoices": [
            {
                "month": "2026-11",
                "plan": "pro",
                "costUnits": 20_234_567,
                "totalCents": 4_900 + 235 * 10,
                "lines": [
                    {"description": "pro plan, 2026-11", "quantity": 1, "amountCents": 4_900},
                    {
                        "description": "Usage: 20,234,567 cost units (20,000,000 included)",
                        "quantity": 20_234_567,
                        "amountCents": 0,
                    },
                    {
                        "description": "Overage: 234,567 cost units, 235 started thousands at "
                        "10 cents",
                        "quantity": 235,
                        "amountCents": 2_350,
                    },
                ],
            }
        ]
    }
    again = await close_month(store, "2026-11", now=AFTER_NOVEMBER)
    assert (again.invoiced, again.already) == (0, closed.invoiced)
    async with store.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == closed.invoiced
        assert (
            await session.scalar(select(func.count()).select_from(InvoiceLine))
            == 3 * closed.invoiced
        )


async def test_a_month_not_over_or_misspelt_is_refused(store: PlatformStore) -> None:
    with pytest.raises(BadUserInput, match="has not ended"):
        await close_month(store, "2026-12", now=AFTER_NOVEMBER)
    with pytest.raises(BadUserInput, match="YYYY-MM"):
        await close_month(store, "2026-13", now=AFTER_NOVEMBER)


async def test_an_interrupted_close_leaves_nothing_and_the_rerun_completes(
    store: PlatformStore,
    graphql: GraphQL,
    authenticator: Authenticator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for email in ("ada@example.com", "bob@example.com"):
        await sign_up(graphql, authenticator, email=email)
    await _founded_in_october(store)
    from subgraphs.platform import billing

    real = billing._invoice
    made: list[str] = []

    def crash_on_second(*args: object, **kwargs: object) -> object:
        if made:
            raise RuntimeError("killed")
        made.append("one")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(billing, "_invoice", crash_on_second)
    with pytest.raises(RuntimeError):
        await close_month(store, "2026-11", now=AFTER_NOVEMBER)
    async with store.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
    monkeypatch.setattr(billing, "_invoice", real)
    closed = await close_month(store, "2026-11", now=AFTER_NOVEMBER)
    assert closed.invoiced >= 2


async def test_a_usage_batch_that_fails_leaves_no_rows_and_is_written_once_again(
    store: PlatformStore, graphql: GraphQL, authenticator: Authenticator
) -> None:
    """The usage rows (COPY on PostgreSQL, executemany on SQLite) and the keys' last use are one
    transaction: when the second part fails, none of the rows stays, so the meter's retry of the
    batch writes each once."""
    ada = await sign_up(graphql, authenticator)
    keyed = replace(ada.caller, kind="api_key", api_key_id="key-7")
    events = [_event(keyed, NOVEMBER + dt.timedelta(minutes=n), n) for n in range(5)]
    sink = PlatformUsageSink(store)

    async def execute(statement: str) -> None:
        async with store.sessions.begin() as session:
            await session.execute(text(statement))

    async def written() -> tuple[int, int]:
        async with store.sessions() as session:
            row = (
                await session.execute(text("SELECT count(*), sum(actual_cost) FROM usage_events"))
            ).one()
        return int(row[0]), int(row[1] or 0)

    await execute("ALTER TABLE api_keys RENAME TO api_keys_gone")
    try:
        with pytest.raises(Exception, match=r"unavailable|api_keys"):  # the UPDATE failed
            await sink.write(events)
        assert await written() == (0, 0)
    finally:
        await execute("ALTER TABLE api_keys_gone RENAME TO api_keys")
    await sink.write(events)
    assert await written() == (5, sum(range(5)))
