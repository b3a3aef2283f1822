"""Tables made once: the DDL a sink or the checkpoints need, run only for what is missing.

Every ingestion run makes sure its tables exist. Running each `CREATE ... IF NOT EXISTS` again
costs one store round trip apiece (22 for the crypto tables, a fifth of a second on chDB, more
than storing a day's candles); one read of `system.tables` says which exist, and only the
statements for missing ones run. Statements that are not a named CREATE (`ALTER ... ADD COLUMN
IF NOT EXISTS`, a migration) always run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nexus.stores.analytics import AnalyticsStore

_CREATE = re.compile(
    r"\s*CREATE\s+(DATABASE|TABLE|MATERIALIZED\s+VIEW|VIEW)\s+IF\s+NOT\s+EXISTS\s+([\w.]+)",
    re.IGNORECASE,
)


async def ensure(store: AnalyticsStore, statements: Iterable[str]) -> int:
    """Run the statements whose database, table or view is missing; return how many ran."""
    plan: list[tuple[str, str | None, str | None]] = []  # statement, database, table
    for statement in statements:
        match = _CREATE.match(statement)
        if match is None:
            plan.append((statement, None, None))
        elif match.group(1).upper() == "DATABASE":
            plan.append((statement, match.group(2), None))
        else:
            database, _, table = match.group(2).rpartition(".")
            plan.append((statement, database or None, table if database else None))
    databases = sorted({database for _, database, _ in plan if database})
    tables: set[tuple[str, str]] = set()
    if databases:
        rows = await store.query(
            "SELECT database, name FROM system.tables WHERE database IN {databases:Array(String)}",
            {"databases": databases},
        )
        tables = {(str(row["database"]), str(row["name"])) for row in rows}
    present = {database for database, _ in tables}
    ran = 0
    for statement, database, table in plan:
        if database is not None and (
            (table is None and database in present) or (database, table) in tables
        ):
            continue
        await store.command(statement)
        ran += 1
    return ran
