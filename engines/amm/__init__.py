"""Automated market makers: Uniswap v2 constant-product and v3 concentrated liquidity."""

from engines.amm.concentrated_liquidity import (
    ConcentratedSwap,
    TokenAmounts,
    amounts_for_liquidity,
    concentrated_liquidity_swap,
    liquidity_for_amounts,
    sqrt_price_at_tick,
    tick_at_price,
)
from engines.amm.constant_product import (
    constant_product_amount_in,
    constant_product_amount_out,
    constant_product_price_impact,
    impermanent_loss,
)

__all__ = [
    "ConcentratedSwap",
    "TokenAmounts",
    "amounts_for_liquidity",
    "concentrated_liquidity_swap",
    "constant_product_amount_in",
    "constant_product_amount_out",
    "constant_product_price_impact",
    "impermanent_loss",
    "liquidity_for_amounts",
    "sqrt_price_at_tick",
    "tick_at_price",
]
