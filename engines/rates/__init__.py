"""Rates: par-curve bootstrapping, Nelson-Siegel(-Svensson), bonds and key-rate shocks."""

from engines.rates.curves import BootstrappedCurve, bootstrap_par_curve, forward_rates, zero_rates
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
    "BootstrappedCurve",
    "NelsonSiegelFit",
    "bootstrap_par_curve",
    "fit_nelson_siegel",
    "fit_nelson_siegel_svensson",
    "forward_rates",
    "nelson_siegel_svensson_forwards",
    "nelson_siegel_svensson_yields",
    "nelson_siegel_yields",
    "zero_rates",
]
