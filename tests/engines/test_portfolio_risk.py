"""engines/risk/portfolio.py against NumPy's own covariance, percentiles and normal quantiles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from engines.errors import ShapeMismatchError
from engines.risk import portfolio_risk


def _returns(seed: int, assets: int = 4, days: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(assets, assets)) * 0.01
    return mixing @ rng.normal(size=(assets, days)) + 0.0005


def test_matches_numpy_for_one_portfolio() -> None:
    r = _returns(1)
    w = np.array([0.4, 0.3, 0.2, 0.1])
    got = portfolio_risk(returns=r, weights=w, confidence_level=0.95)

    cov = np.cov(r)
    vol = np.sqrt(w @ cov @ w)
    losses = -(w @ r)
    var = np.percentile(losses, 95)
    mean_loss = -(w @ r.mean(axis=1))
    assert np.asarray(got.covariances) == pytest.approx(cov, rel=1e-10)
    assert np.asarray(got.correlations) == pytest.approx(np.corrcoef(r), rel=1e-10)
    assert float(got.volatilities) == pytest.approx(vol, rel=1e-10)
    # Euler: the contributions add up to the volatility.
    assert np.asarray(got.contributions) == pytest.approx(w * (cov @ w) / vol, rel=1e-10)
    assert float(np.sum(got.contributions)) == pytest.approx(vol, rel=1e-10)
    assert float(got.historical_var) == pytest.approx(var, rel=1e-10)
    assert float(got.historical_es) == pytest.approx(losses[losses >= var].mean(), rel=1e-10)
    z = norm.ppf(0.95)
    assert float(got.parametric_var) == pytest.approx(mean_loss + z * vol, rel=1e-8)
    assert float(got.parametric_es) == pytest.approx(
        mean_loss + vol * norm.pdf(z) / 0.05, rel=1e-8
    )


def test_a_batch_equals_each_portfolio_alone() -> None:
    returns = np.stack([_returns(seed) for seed in range(3)])
    weights = np.array([[0.25] * 4, [1.0, 0, 0, 0], [0.5, -0.5, 0.5, 0.5]])
    batch = portfolio_risk(returns=returns, weights=weights)
    for i in range(3):
        alone = portfolio_risk(returns=returns[i], weights=weights[i])
        for got, want in zip(batch, alone, strict=True):
            assert np.asarray(got)[i] == pytest.approx(np.asarray(want), rel=1e-10)


def test_a_riskless_portfolio_has_zero_contributions() -> None:
    flat = np.zeros((2, 10))
    got = portfolio_risk(returns=flat, weights=np.array([0.5, 0.5]))
    assert float(got.volatilities) == 0.0
    assert np.asarray(got.contributions).tolist() == [0.0, 0.0]


def test_mismatched_weights_are_refused() -> None:
    with pytest.raises(ShapeMismatchError):
        portfolio_risk(returns=_returns(2), weights=np.ones(3) / 3)
