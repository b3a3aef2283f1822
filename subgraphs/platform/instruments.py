"""What a watchlist item points at: stubs of entities other subgraphs own.

Each is declared with a non-resolvable key, so the router can send the stub on to the
subgraph that owns the type (crypto for Token, micro for Stock, macro for Series) while this
subgraph never has to resolve one itself.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from subgraphs.close_history import CLOSE_HISTORY_DESCRIPTION, CloseHistory
from subgraphs.platform.models import InstrumentKind

# The GraphQL enum is the domain enum itself (strawberry.enum registers it in place).
strawberry.enum(
    InstrumentKind,
    name="InstrumentKind",
    description="What a watchlist item's key names, and so which subgraph owns the instrument.",
)
_KIND_DESCRIPTIONS = {
    "TOKEN": "A crypto token symbol, e.g. BTC (crypto's `Token`).",
    "STOCK": "A stock ticker, e.g. GME (micro's `Stock`).",
    "SERIES": "A FRED series id, e.g. DGS10 (macro's `Series`).",
}
for _value in InstrumentKind.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _KIND_DESCRIPTIONS[_value.name]


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("symbol"), resolvable=False)],
    description="A crypto token, resolved by the crypto subgraph.",
)
class Token:
    symbol: str = strawberry.field(description="The token's symbol, e.g. BTC.")
    close_history: CloseHistory | None = strawberry.federation.field(
        external=True, default=None, description=CLOSE_HISTORY_DESCRIPTION
    )


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("symbol"), resolvable=False)],
    description="A stock, resolved by the micro subgraph.",
)
class Stock:
    symbol: str = strawberry.field(description="The ticker, e.g. GME.")
    close_history: CloseHistory | None = strawberry.federation.field(
        external=True, default=None, description=CLOSE_HISTORY_DESCRIPTION
    )


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("id"), resolvable=False)],
    description="A FRED series, resolved by the macro subgraph.",
)
class Series:
    id: strawberry.ID = strawberry.field(description="The FRED series id, e.g. DGS10.")


Instrument = Annotated[
    Token | Stock | Series,
    strawberry.union("Instrument", description="A token, a stock or a FRED series."),
]


def instrument(kind: InstrumentKind, key: str) -> Token | Stock | Series:
    """The stub for a watchlist item of `kind` whose symbol or series id is `key`."""
    match kind:
        case InstrumentKind.TOKEN:
            return Token(symbol=key)
        case InstrumentKind.STOCK:
            return Stock(symbol=key)
        case InstrumentKind.SERIES:
            return Series(id=strawberry.ID(key))
