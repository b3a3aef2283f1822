"""Short-rate models: Vasicek, CIR and Hull-White one-factor Monte Carlo and analytics."""

from engines.shortrate.cir import cir_bond_prices, cir_paths
from engines.shortrate.hull_white import hull_white_bond_prices, hull_white_paths
from engines.shortrate.paths import MonteCarloEstimate, ShortRatePaths, monte_carlo_bond_prices
from engines.shortrate.vasicek import vasicek_bond_prices, vasicek_paths

__all__ = [
    "MonteCarloEstimate",
    "ShortRatePaths",
    "cir_bond_prices",
    "cir_paths",
    "hull_white_bond_prices",
    "hull_white_paths",
    "monte_carlo_bond_prices",
    "vasicek_bond_prices",
    "vasicek_paths",
]
