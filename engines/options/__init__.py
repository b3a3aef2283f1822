"""European option pricing: Black-Scholes-Merton, Black-76, autodiff Greeks, implied vols."""

from engines.options.black_scholes import black76_price, black_scholes_price, option_price
from engines.options.greeks import OptionGreeks, option_greeks
from engines.options.implied_volatility import ImpliedVolatilityResult, implied_volatility

__all__ = [
    "ImpliedVolatilityResult",
    "OptionGreeks",
    "black76_price",
    "black_scholes_price",
    "implied_volatility",
    "option_greeks",
    "option_price",
]
