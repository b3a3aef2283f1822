"""The crypto subgraph's root fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from nexus.demand import assumed_size
from nexus.graphql_errors import SubgraphSchema
from subgraphs.columns import COLUMN_SCALARS
from subgraphs.crypto.live import Stock, Subscription
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.onchain_types import OnchainQuery
from subgraphs.crypto.option_chain import OptionChain
from subgraphs.crypto.option_fields import OptionQuery
from subgraphs.crypto.pool_types import LiquidityPool, pool_from
from subgraphs.crypto.types import Token, from_record


@strawberry.type(description="The entry points for reading data.")
class Query(OptionQuery, OnchainQuery):
    @strawberry.field(description="A token by ticker symbol (case-insensitive); null if unknown.")
    async def token(
        self,
        info: Info[CryptoContext, None],
        symbol: Annotated[str, strawberry.argument(description="Ticker symbol, e.g. BTC.")],
    ) -> Token | None:
        return from_record(await info.context.tokens.load(symbol.upper()))

    @strawberry.field(
        description="Every token on record, by symbol.",
        directives=[assumed_size(20)],  # demand control: about the demo's tokens
    )
    async def tokens(self, info: Info[CryptoContext, None]) -> list[Token]:
        records = await info.context.repository.all_tokens()
        return [token for record in records if (token := from_record(record)) is not None]

    @strawberry.field(
        description="Every liquidity pool on record: the demo's synthetic pools, then pools "
        "read from Uniswap events (keyed by contract address).",
        # demand control: the demo has four; ingestion adds the pools its events name
        directives=[assumed_size(20)],
    )
    async def pools(self, info: Info[CryptoContext, None]) -> list[LiquidityPool]:
        records = await info.context.repository.all_pools()
        return [pool for record in records if (pool := pool_from(record)) is not None]

    @strawberry.field(description="A liquidity pool by id; null if unknown.")
    async def pool(
        self,
        info: Info[CryptoContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The pool's id.")],
    ) -> LiquidityPool | None:
        return pool_from(await info.context.pools.load(str(id)))


schema = SubgraphSchema(
    query=Query,
    subscription=Subscription,
    types=[Token, Stock, LiquidityPool, OptionChain],
    config=StrawberryConfig(scalar_map=COLUMN_SCALARS),
)
