"""Risk: returns, rolling volatility, drawdowns, correlations, CAPM, VaR and ES."""

from engines.risk.capm import CapmRegression, capm_regressions
from engines.risk.correlation import correlation_matrices, covariance_matrices
from engines.risk.portfolio import PortfolioRisk, portfolio_risk
from engines.risk.returns import (
    Drawdowns,
    drawdowns,
    log_returns,
    rolling_volatility,
    simple_returns,
)
from engines.risk.value_at_risk import RiskMeasures, historical_var, monte_carlo_var

__all__ = [
    "CapmRegression",
    "Drawdowns",
    "PortfolioRisk",
    "RiskMeasures",
    "capm_regressions",
    "correlation_matrices",
    "covariance_matrices",
    "drawdowns",
    "historical_var",
    "log_returns",
    "monte_carlo_var",
    "portfolio_risk",
    "rolling_volatility",
    "simple_returns",
]
