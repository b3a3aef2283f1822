"""Crypto's root fields for options given by the caller: prices, Greeks, implied vols."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Cost
from strawberry.types import Info

from nexus.demand import sizes_fields
from nexus.errors import BadUserInput
from subgraphs.crypto.loaders import CryptoContext
from subgraphs.crypto.option_inputs import (
    OptionColumnsInput,
    OptionInput,
    OptionModel,
    OptionQuoteInput,
    column_batch,
    option_batch,
)
from subgraphs.crypto.option_pricing import GreekColumns, ImpliedColumns
from subgraphs.crypto.option_types import (
    ImpliedVolatilities,
    OptionAnalytics,
    implied_volatilities,
    option_analytics,
)

Model = Annotated[
    OptionModel,
    strawberry.argument(description="BLACK_SCHOLES_MERTON (spot) or BLACK_76 (forward)."),
]


@strawberry.type
class OptionQuery:
    @strawberry.field(
        description="Prices and all Greeks (delta, gamma, vega, theta, rho, vanna, volga) of "
        "European options, by autodiff of the model price; one engine call for every option "
        "of the request.",
        # Demand control: `options`, one object per option, is the costly shape (packed
        # columns are scalars); @listSize cannot read an input list's length: assume 100.
        directives=[Cost(weight=5), sizes_fields("options", assumed=100)],
    )
    async def option_analytics(
        self,
        info: Info[CryptoContext, None],
        model: Model,
        options: Annotated[
            list[OptionInput] | None,
            strawberry.argument(description="The options, at most 100,000 (or give columns)."),
        ] = None,
        columns: Annotated[
            OptionColumnsInput | None,
            strawberry.argument(
                description="The options as parallel columns, at most 100,000 (or give "
                "options); much cheaper for thousands."
            ),
        ] = None,
    ) -> OptionAnalytics | None:
        if (options is None) == (columns is None):
            raise BadUserInput("Give exactly one of `options` or `columns`.", argument="options")
        batch = (
            option_batch(model, options) if options is not None
            else column_batch(model, columns)  # type: ignore[arg-type]
        )
        priced: GreekColumns = await info.context.option_prices.load(batch)
        return option_analytics(priced)

    @strawberry.field(
        description="Implied volatilities of European options from their prices (Halley "
        "steps with a bisection guard), each with a convergence flag.",
        directives=[Cost(weight=5)],
    )
    async def implied_volatilities(
        self,
        info: Info[CryptoContext, None],
        model: Model,
        options: Annotated[
            list[OptionQuoteInput],
            strawberry.argument(description="The quoted options, at most 100,000."),
        ],
    ) -> ImpliedVolatilities | None:
        batch = option_batch(model, options)
        columns: ImpliedColumns = await info.context.implied_volatilities.load(batch)
        return implied_volatilities(columns)
