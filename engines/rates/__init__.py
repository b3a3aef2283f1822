"""Rates: par-curve bootstrapping, Nelson-Siegel(-Svensson), bonds and key-rate shocks."""

from engines.rates.bond_yields import BondYieldResult, bond_yields
from engines.rates.bonds import (
    BondPrices,
    BondSensitivities,
    bond_prices,
    bond_prices_from_curve,
    bond_sensitivities,
)
from engines.rates.curves import BootstrappedCurve, bootstrap_par_curve, forward_rates, zero_rates
from engines.rates.key_rates import (
    CurveShocks,
    KeyRateDurations,
    PortfolioShockResult,
    key_rate_durations,
    shocked_portfolio_values,
    standard_curve_shocks,
)
from engines.rates.nelson_siegel import (
    nelson_siegel_svensson_forwards,
    nelson_siegel_svensson_yields,
    nelson_siegel_yields,
)
from engines.rates.nelson_siegel_fit import (
    NelsonSiegelFit,
    fit_nelson_siegel,
    fit_nelson_siegel_svensson,
)

__all__ = [
    "BondPrices",
    "BondSensitivities",
    "BondYieldResult",
    "BootstrappedCurve",
    "CurveShocks",
    "KeyRateDurations",
    "NelsonSiegelFit",
    "PortfolioShockResult",
    "bond_prices",
    "bond_prices_from_curve",
    "bond_sensitivities",
    "bond_yields",
    "bootstrap_par_curve",
    "fit_nelson_siegel",
    "fit_nelson_siegel_svensson",
    "forward_rates",
    "key_rate_durations",
    "nelson_siegel_svensson_forwards",
    "nelson_siegel_svensson_yields",
    "nelson_siegel_yields",
    "shocked_portfolio_values",
    "standard_curve_shocks",
    "zero_rates",
]
