"""A symbol's whole daily close history as two parallel columns, for other subgraphs.

Crypto (`Token.closeHistory`) and micro (`Stock.closeHistory`) serve it from their own
stores; platform declares it `@external` on its Token/Stock stubs and `Watchlist.risk`
`@requires` it, so the router fetches every item's history from the subgraph that owns it
and hands it to platform (platform never reads another subgraph's store). The type is
@shareable: three subgraphs declare it with the same fields and descriptions. Both fields are
column scalars: fifty histories are ~40,000 days, which as `[Date!]!` cost about a second of
per-entry GraphQL work (benchmarks/watchlist.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import strawberry
from aiodataloader import DataLoader

from nexus.stores.analytics import AnalyticsStore
from subgraphs.columns import DateColumn, FloatColumn

CLOSE_HISTORY_DESCRIPTION = (
    "Every daily close on record, oldest first, as parallel columns (the whole history: "
    "`Watchlist.risk` requires it through the router)."
)


@strawberry.federation.type(
    shareable=True,
    description="A daily close history as parallel columns: closes[i] is the close of dates[i].",
)
class CloseHistory:
    dates: DateColumn = strawberry.federation.field(
        shareable=True, description="Days with a close, oldest first (ISO dates)."
    )
    closes: FloatColumn = strawberry.federation.field(
        shareable=True, description="Closes, US dollars, parallel to dates."
    )


async def load_close_histories(
    store: AnalyticsStore, database: str, symbols: Sequence[str]
) -> list[CloseHistory]:
    """Every symbol's history in one query, one row per symbol (arrays, not a row per day)."""
    rows = await store.query(
        "SELECT symbol, groupArray(toString(date)) AS dates, groupArray(close) AS closes "
        f"FROM (SELECT symbol, date, close FROM {database}.candles "
        "WHERE symbol IN {symbols:Array(String)} ORDER BY symbol, date) GROUP BY symbol",
        {"symbols": sorted({symbol.upper() for symbol in symbols})},
    )
    found = {row["symbol"]: row for row in rows}
    empty: dict[str, list[object]] = {"dates": [], "closes": []}
    return [
        CloseHistory(
            dates=DateColumn(list(row["dates"])),
            closes=FloatColumn(np.asarray(row["closes"], dtype=np.float64)),
        )
        for row in (found.get(symbol.upper(), empty) for symbol in symbols)
    ]


class HistoryContext(Protocol):
    close_histories: DataLoader


async def close_history(context: HistoryContext, symbol: str) -> CloseHistory:
    """The symbol's full history through the request's batched loader."""
    history: CloseHistory = await context.close_histories.load(symbol)
    return history
