"""Nexus-Alpha quantitative engines: pure, batch-first, jitted JAX functions.

Importing :mod:`engines` enables 64-bit floats in JAX (``jax_enable_x64``) so that
float64 inputs are computed in float64; float32 inputs stay float32.

Domain subpackages:

* :mod:`engines.options` -- Black-Scholes-Merton / Black-76 prices, autodiff Greeks,
  implied volatility.
* :mod:`engines.rates` -- par-curve bootstrapping, Nelson-Siegel(-Svensson) fitting,
  forward rates, fixed-rate bond analytics, key-rate shocks.
* :mod:`engines.shortrate` -- Vasicek, CIR and Hull-White one-factor Monte Carlo and
  analytic zero-coupon bond prices.
* :mod:`engines.risk` -- returns, rolling volatility, drawdowns, correlations, CAPM,
  VaR and expected shortfall.
* :mod:`engines.amm` -- Uniswap v2 and v3 quotes, price impact, impermanent loss.
* :mod:`engines.charts` -- LTTB downsampling and OHLC resampling.
* :mod:`engines.layout` -- force-directed 2-D layout of weighted graphs.

All input errors raise subclasses of :class:`engines.errors.EngineInputError`.
"""

import jax

jax.config.update("jax_enable_x64", True)

from engines import errors  # noqa: E402

__all__ = ["errors"]
