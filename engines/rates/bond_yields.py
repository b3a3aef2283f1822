"""Yields to maturity from bond prices: vectorised, safeguarded Newton iteration.

The dirty price as a function of the continuously compounded yield ``r = f ln(1 + y/f)``,

    P(r) = sum_k A_k exp(-r t_k),    P'(r) = -sum_k t_k A_k exp(-r t_k),

is positive, decreasing and convex, so after at most one step Newton's iterates approach
the root monotonically from below [1].  Each bond keeps a bracket ``[low, high]`` inside
``r in [-1, 2]`` (about -80% to +340% a year) updated from the sign of the residual; a step
that leaves the bracket or is not finite is replaced by bisection.  Prices outside
``(P(2), P(-1))`` have no yield in that range: the result is NaN and ``converged`` False.
The start is the textbook approximation ``y0 = (c F + (F - clean) / T) / ((F + clean) / 2)``.

References:
    [1] Press, W. et al. (2007). Numerical Recipes, 3rd ed., section 9.4 (rtsafe).
    [2] Fabozzi, F. (2012). Bond Markets, Analysis, and Strategies, 8th ed., ch. 3.
    [3] QuantLib: ``BondFunctions.bondYield`` (NewtonSafe on the same equation).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError
from engines.rates._cash_flows import BondTerms, cash_flows, prepare_terms

__all__ = ["BondYieldResult", "bond_yields"]

_LOW_RATE, _HIGH_RATE = -1.0, 2.0
_State = tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]


class BondYieldResult(NamedTuple):
    """Yields with per-bond convergence flags.

    Attributes:
        yields: ``[batch...]`` float, compounded ``frequencies`` times a year; NaN where
            no yield exists in the search range.
        converged: ``[batch...]`` bool, True where the tolerance was met.
        num_iterations: scalar int32, iterations run for the whole batch.
    """

    yields: jax.Array
    converged: jax.Array
    num_iterations: jax.Array


@partial(jax.jit, static_argnames=("num_flows", "max_iterations", "clean"))
def _yields_jit(
    terms: BondTerms,
    prices: jax.Array,
    tolerance: jax.Array,
    num_flows: int,
    max_iterations: int,
    clean: bool,
) -> BondYieldResult:
    dtype = prices.dtype
    periods, amounts, accrued = cash_flows(terms, num_flows)
    times = periods / terms.frequencies[..., None]
    target = prices + accrued if clean else prices
    clean_price = target - accrued

    def price_and_slope(r: jax.Array) -> tuple[jax.Array, jax.Array]:
        discounted = amounts * jnp.exp(-r[..., None] * times)
        return jnp.sum(discounted, -1), -jnp.sum(times * discounted, -1)

    low0 = jnp.full_like(target, _LOW_RATE)
    high0 = jnp.full_like(target, _HIGH_RATE)
    solvable = (price_and_slope(high0)[0] < target) & (target < price_and_slope(low0)[0])
    face, maturity, f = terms.faces, terms.maturities, terms.frequencies
    guess = (terms.coupon_rates * face + (face - clean_price) / maturity) / (
        0.5 * (face + clean_price)
    )
    r0 = f * jnp.log1p(jnp.clip(guess / f, -0.5, 1.0))
    r0 = jnp.clip(r0, 0.9 * _LOW_RATE, 0.9 * _HIGH_RATE)
    residual_tolerance = 4 * jnp.finfo(dtype).eps * target

    def cond(state: _State) -> jax.Array:
        _, _, _, done, it = state
        return (it < max_iterations) & ~jnp.all(done)

    def step(state: _State) -> _State:
        r, low, high, done, it = state
        price, slope = price_and_slope(r)
        residual = price - target
        low = jnp.where(residual > 0, r, low)  # price too high: the yield is above r
        high = jnp.where(residual <= 0, r, high)
        newton = r - residual / slope
        inside = jnp.isfinite(newton) & (newton >= low) & (newton <= high)
        r_new = jnp.where(inside, newton, 0.5 * (low + high))
        # Within a few ulps the residual is rounding noise; the step taken from it is still
        # a correction, so it is kept and the bond stops after it.
        small_residual = jnp.abs(residual) <= residual_tolerance
        small_step = jnp.abs(r_new - r) <= tolerance * jnp.maximum(jnp.abs(r_new), 1e-3)
        finished = done | small_residual | small_step | ((high - low) <= tolerance * 1e-3)
        return jnp.where(done, r, r_new), low, high, finished, it + 1

    init = (r0, low0, high0, ~solvable, jnp.asarray(0, jnp.int32))
    r, _, _, done, iterations = lax.while_loop(cond, step, init)
    yields = f * jnp.expm1(r / f)
    return BondYieldResult(
        jnp.where(solvable, yields, jnp.nan).astype(dtype), solvable & done, iterations
    )


def bond_yields(
    *,
    prices: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike = 2,
    faces: ArrayLike = 100.0,
    clean: bool = True,
    tolerance: float | None = None,
    max_iterations: int = 50,
    dtype: DTypeLike | None = None,
) -> BondYieldResult:
    """Yields to maturity of fixed-rate bonds from clean (or dirty) prices, per bond.

    Formula: find ``y`` with ``sum_k A_k (1 + y/f)^(-e_k) = P`` (dirty ``P``; clean prices
    get the accrued interest added), solved in ``r = f ln(1 + y/f)`` by Newton steps with
    bisection safeguards; stops when ``|r_{k+1} - r_k| <= tol max(|r|, 1e-3)`` or after the
    step from a price within 4 ulps of the target.  See :func:`engines.rates.bond_prices`.

    Example:
        >>> from engines.rates import bond_yields
        >>> r = bond_yields(prices=100.5675103142676, coupon_rates=0.05, maturities=7 / 12)
        >>> round(float(r.yields), 12), bool(r.converged)
        (0.04, True)

    Args:
        prices: ``[batch...]`` float, prices ``> 0`` in the units of ``faces``.
        coupon_rates: ``[batch...]`` float, annual coupon rates ``>= 0``.
        maturities: ``[batch...]`` float, years to maturity ``> 0``.
        frequencies: ``[batch...]`` whole number of coupons a year (also the yield's
            compounding); default 2.
        faces: ``[batch...]`` float, face amounts ``> 0``; default 100.
        clean: bool, True if ``prices`` are clean (without accrued interest), False for
            dirty prices; default True.
        tolerance: relative step tolerance; default None meaning 1e-13 (float64) or 1e-6
            (float32).
        max_iterations: int ``>= 1``, iteration cap for the whole batch; default 50.
        dtype: float32 or float64; default None meaning the dtype of ``prices``.

    Returns:
        :class:`BondYieldResult` (``yields``, ``converged``, ``num_iterations``).

    References:
        [1] Press et al. (2007), Numerical Recipes, 9.4; [2] Fabozzi (2012), ch. 3;
        [3] QuantLib BondFunctions.bondYield.
    """
    if max_iterations < 1:
        raise ParameterRangeError("max_iterations must be >= 1")
    terms, num_flows, arrays = prepare_terms(
        first=prices,
        coupon_rates=coupon_rates,
        maturities=maturities,
        frequencies=frequencies,
        faces=faces,
        dtype=dtype,
        extra={"prices": prices},
    )
    v.check_positive("prices", arrays["prices"])
    dt = arrays["prices"].dtype
    if tolerance is None:
        tolerance = 1e-13 if dt == np.float64 else 1e-6
    v.check_range("tolerance", tolerance, 0.0, 1.0)
    return _yields_jit(
        terms, arrays["prices"], jnp.asarray(tolerance, dt), num_flows, max_iterations, clean
    )
