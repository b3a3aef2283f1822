"""The crypto subgraph's root fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.graphql_errors import SubgraphSchema
from subgraphs.crypto.live import Stock, Subscription
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.types import Token, from_record


@strawberry.type(description="The entry points for reading data.")
class Query:
    @strawberry.field(description="A token by ticker symbol (case-insensitive); null if unknown.")
    async def token(
        self,
        info: Info[CryptoContext, None],
        symbol: Annotated[str, strawberry.argument(description="Ticker symbol, e.g. BTC.")],
    ) -> Token | None:
        return from_record(await info.context.tokens.load(symbol.upper()))

    @strawberry.field(
        description="Every token on record, by symbol.",
        directives=[assumed_size(50)],  # demand control: about the demo's tokens
    )
    async def tokens(self, info: Info[CryptoContext, None]) -> list[Token]:
        records = await info.context.repository.all_tokens()
        return [token for record in records if (token := from_record(record)) is not None]


schema = SubgraphSchema(query=Query, subscription=Subscription, types=[Token, Stock])
