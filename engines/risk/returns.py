"""Returns, rolling volatility and drawdowns of price series (time on the last axis).

    simple return   r_t = P_t / P_{t-1} - 1          log return   l_t = ln(P_t / P_{t-1})
    rolling vol     sigma_t = sqrt(m sum_{i in window} (x_i - xbar)^2 / (w - ddof))
    drawdown        D_t = P_t / max_{s<=t} P_s - 1 (<= 0),   max drawdown = -min_t D_t

``m`` is the number of periods a year (252 trading days, 365 for crypto).  Window sums
are exact sliding sums (``lax.reduce_window``), not differences of running totals, so a
long series carries no drift; a window whose values are all equal has exactly zero
volatility.

References:
    [1] Campbell, J., Lo, A., MacKinlay, C. (1997). The Econometrics of Financial Markets,
        Princeton, ch. 1.4 (returns).
    [2] Hull, J. C. (2023). Risk Management and Financial Institutions, 6th ed., ch. 10
        (volatility).
    [3] Magdon-Ismail, M., Atiya, A. (2004). Maximum drawdown. Risk 17(10).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError, ShapeMismatchError

__all__ = ["Drawdowns", "drawdowns", "log_returns", "rolling_volatility", "simple_returns"]


class Drawdowns(NamedTuple):
    """Drawdown series and the deepest drawdown of each series.

    Attributes:
        drawdowns: ``[batch..., num_times]``, ``P_t / running peak - 1`` (``<= 0``).
        max_drawdowns: ``[batch...]``, ``-min_t D_t`` (``>= 0``; 0.55 = a 55% fall).
        peak_indices: ``[batch...]`` int, time index of the peak before the deepest trough.
        trough_indices: ``[batch...]`` int, time index of the deepest trough.
    """

    drawdowns: jax.Array
    max_drawdowns: jax.Array
    peak_indices: jax.Array
    trough_indices: jax.Array


def _prices(prices: ArrayLike, dtype: DTypeLike | None, minimum: int) -> jax.Array:
    dt = v.infer_dtype(prices, dtype)
    p = v.as_array("prices", prices, dt)
    if p.ndim < 1 or p.shape[-1] < minimum:
        raise ShapeMismatchError(
            f"prices{tuple(p.shape)} needs at least {minimum} observations on its last axis"
        )
    v.check_all(finite=[("prices", p)], positive=[("prices", p)])
    return p


@jax.jit
def _simple_jit(p: jax.Array) -> jax.Array:
    return p[..., 1:] / p[..., :-1] - 1.0


@jax.jit
def _log_jit(p: jax.Array) -> jax.Array:
    return jnp.log(p[..., 1:] / p[..., :-1])


def simple_returns(*, prices: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Simple (arithmetic) returns ``r_t = P_t / P_{t-1} - 1`` along the last axis.

    Example:
        >>> import numpy as np
        >>> from engines.risk import simple_returns
        >>> simple_returns(prices=np.array([100.0, 110.0, 99.0]))
        Array([ 0.1, -0.1], dtype=float64)

    Args:
        prices: ``[batch..., num_times]`` float, positive prices, oldest first
            (``num_times >= 2``).
        dtype: float32 or float64; default None meaning the dtype of ``prices``.

    Returns:
        ``[batch..., num_times - 1]`` returns.

    References:
        [1] Campbell, Lo, MacKinlay (1997), 1.4.
    """
    return _simple_jit(_prices(prices, dtype, 2))


def log_returns(*, prices: ArrayLike, dtype: DTypeLike | None = None) -> jax.Array:
    """Log (continuously compounded) returns ``l_t = ln(P_t / P_{t-1})`` along the last axis.

    Example:
        >>> import numpy as np
        >>> from engines.risk import log_returns
        >>> np.round(log_returns(prices=np.array([100.0, 100.0 * np.e])), 12)
        Array([1.], dtype=float64)

    Args:
        prices: ``[batch..., num_times]`` float, positive prices, oldest first
            (``num_times >= 2``).
        dtype: float32 or float64; default None meaning the dtype of ``prices``.

    Returns:
        ``[batch..., num_times - 1]`` log returns.

    References:
        [1] Campbell, Lo, MacKinlay (1997), 1.4.
    """
    return _log_jit(_prices(prices, dtype, 2))


def _window_sum(x: jax.Array, window: int, op: str = "add") -> jax.Array:
    dims = (1,) * (x.ndim - 1) + (window,)
    strides = (1,) * x.ndim
    if op == "add":
        return lax.reduce_window(x, jnp.zeros((), x.dtype), lax.add, dims, strides, "VALID")
    init = -jnp.inf if op == "max" else jnp.inf
    fn = lax.max if op == "max" else lax.min
    return lax.reduce_window(x, jnp.asarray(init, x.dtype), fn, dims, strides, "VALID")


@partial(jax.jit, static_argnames=("window", "ddof"))
def _rolling_vol_jit(
    returns: jax.Array, periods_per_year: jax.Array, window: int, ddof: int
) -> jax.Array:
    # Centring on the series mean first keeps the sum-of-squares identity accurate.
    x = returns - jnp.mean(returns, axis=-1, keepdims=True)
    s1 = _window_sum(x, window)
    s2 = _window_sum(x * x, window)
    variance = jnp.maximum(s2 - s1 * s1 / window, 0.0) / (window - ddof)
    flat = _window_sum(returns, window, "max") == _window_sum(returns, window, "min")
    return jnp.where(flat, 0.0, jnp.sqrt(variance * periods_per_year))


def rolling_volatility(
    *,
    returns: ArrayLike,
    window: int,
    periods_per_year: float = 252.0,
    ddof: int = 1,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Annualised rolling standard deviation of returns over a trailing window.

    Formula: ``sigma_t = sqrt(m sum_{i=t-w+1..t} (x_i - xbar_t)^2 / (w - ddof))`` for each
    full window (output ``j`` covers inputs ``j .. j + w - 1``).

    Example:
        >>> import numpy as np
        >>> from engines.risk import rolling_volatility
        >>> r = np.array([0.01, -0.01, 0.01, -0.01, 0.0, 0.0, 0.0])
        >>> np.round(rolling_volatility(returns=r, window=4, periods_per_year=1.0), 6)
        Array([0.011547, 0.009574, 0.008165, 0.005   ], dtype=float64)

    Args:
        returns: ``[batch..., num_times]`` float, finite returns, oldest first.
        window: int, observations per window, ``ddof < window <= num_times``.
        periods_per_year: float ``> 0``, annualisation factor ``m``; default 252 (1 gives
            the plain rolling standard deviation).
        ddof: int, 1 for the sample (default) or 0 for the population deviation.
        dtype: float32 or float64; default None meaning the dtype of ``returns``.

    Returns:
        ``[batch..., num_times - window + 1]`` annualised volatilities (0, never NaN, for a
        constant window).

    References:
        [2] Hull (2023), Risk Management and Financial Institutions, ch. 10.
    """
    dt = v.infer_dtype(returns, dtype)
    r = v.as_array("returns", returns, dt)
    if r.ndim < 1:
        raise ShapeMismatchError("returns must have a time axis (last axis)")
    if ddof not in (0, 1):
        raise ParameterRangeError("ddof must be 0 (population) or 1 (sample)")
    if not ddof < window <= r.shape[-1]:
        raise ParameterRangeError(
            f"window={window} must satisfy {ddof} < window <= {r.shape[-1]} (the series "
            "length); shorten the window or pass a longer series"
        )
    v.check_range("periods_per_year", periods_per_year, 0.0, float("inf"))
    v.check_finite("returns", r)
    return _rolling_vol_jit(r, jnp.asarray(periods_per_year, dt), window, ddof)


@jax.jit
def _drawdown_jit(p: jax.Array) -> Drawdowns:
    peaks = lax.cummax(p, axis=p.ndim - 1)
    series = p / peaks - 1.0
    trough = jnp.argmin(series, axis=-1)
    before = jnp.arange(p.shape[-1]) <= trough[..., None]
    peak = jnp.argmax(jnp.where(before, p, -jnp.inf), axis=-1)
    return Drawdowns(series, -jnp.min(series, axis=-1), peak, trough)


def drawdowns(*, prices: ArrayLike, dtype: DTypeLike | None = None) -> Drawdowns:
    """Drawdown series and maximum drawdown of price (or wealth-index) series.

    Formula: ``D_t = P_t / max_{s<=t} P_s - 1``; ``max drawdown = -min_t D_t``, with the
    peak the highest price before the deepest trough.

    Example:
        >>> import numpy as np
        >>> from engines.risk import drawdowns
        >>> d = drawdowns(prices=np.array([100.0, 120.0, 90.0, 110.0, 60.0, 130.0]))
        >>> float(d.max_drawdowns), int(d.peak_indices), int(d.trough_indices)
        (0.5, 1, 4)

    Args:
        prices: ``[batch..., num_times]`` float, positive prices, oldest first.
        dtype: float32 or float64; default None meaning the dtype of ``prices``.

    Returns:
        :class:`Drawdowns` (``drawdowns``, ``max_drawdowns``, ``peak_indices``,
        ``trough_indices``); a series that never falls has all zeros.

    References:
        [3] Magdon-Ismail, Atiya (2004), Risk 17(10).
    """
    return _drawdown_jit(_prices(prices, dtype, 1))
