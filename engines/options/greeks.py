"""First- and second-order option Greeks by automatic differentiation.

The price ``V(S, sigma, T, r)`` of :mod:`engines.options.black_scholes` is differentiated
with JAX in forward mode: one ``jax.jvp`` per input for the first-order sensitivities and
forward-over-forward for the second-order ones, compiled by XLA as one program in which
the shared primal (``d1``, ``N``, ``n``, discount factors) is computed once.  The Black
kernel's JVP rule reuses ``N(d1)``, ``N(d2)`` and ``n(d1)`` of the price, so everything
else -- discounting, ``sigma sqrt(T)``, the limit cases and the second derivatives of
that rule -- is plain autodiff.  Because the price is elementwise, a unit tangent over
the whole batch gives every option's derivative in one pass.

On CPU the eight results come out of one fused loop (:func:`engines._fusion.one_loop`;
two in float64, first- and second-order): XLA:CPU otherwise writes one loop per result,
each re-reading the shared intermediates from memory.

Definitions (``U`` is the spot for Black-Scholes-Merton, the forward for Black-76):

    delta = dV/dU,  gamma = d2V/dU2,  vega = dV/dsigma,  theta = -dV/dT,
    rho = dV/dr,    vanna = d2V/dU dsigma,  volga = d2V/dsigma2.

For Black-76 the forward is held fixed when ``r`` moves, so ``rho = -T V``.  Units are
per unit of the input (vega per 1.00 of volatility, theta per year, rho per 1.00 of rate).

References:
    [1] Griewank, A., Walther, A. (2008). Evaluating Derivatives, 2nd ed., SIAM.
    [2] Hull, J. C. (2022). Options, Futures, and Other Derivatives, 11th ed., ch. 19.
    [3] Haug, E. G. (2007). The Complete Guide to Option Pricing Formulas, 2nd ed., ch. 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from engines._fusion import one_loop
from engines.options.black_scholes import prepare_option_inputs, price_from_inputs

__all__ = ["OptionGreeks", "option_greeks"]


class OptionGreeks(NamedTuple):
    """Prices and Greeks, each ``[batch...]`` in the input dtype."""

    prices: jax.Array
    deltas: jax.Array
    gammas: jax.Array
    vegas: jax.Array
    thetas: jax.Array
    rhos: jax.Array
    vannas: jax.Array
    volgas: jax.Array


def _greeks_of_arrays(arrays: Sequence[jax.Array], use_forwards: bool) -> OptionGreeks:
    """Forward-mode Greeks of equal-shaped option arrays (in ``OptionInputs`` order)."""
    volatilities, strikes, expiries, underlyings, discount_rates, dividend_rates, calls = arrays
    ones = jnp.ones_like(underlyings)

    def price(u: jax.Array, sigma: jax.Array, t: jax.Array, r: jax.Array) -> jax.Array:
        return price_from_inputs(sigma, strikes, t, u, r, dividend_rates, calls, use_forwards)

    def along(fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
        return jax.jvp(fn, (x,), (ones,))[1]

    u, sigma, t, r = underlyings, volatilities, expiries, discount_rates
    prices, deltas = jax.jvp(lambda x: price(x, sigma, t, r), (u,), (ones,))

    def delta_at(x: jax.Array, y: jax.Array) -> jax.Array:
        return along(lambda z: price(z, y, t, r), x)

    def vega_at(y: jax.Array) -> jax.Array:
        return along(lambda z: price(u, z, t, r), y)

    return OptionGreeks(
        prices,
        deltas,
        along(lambda x: delta_at(x, sigma), u),
        vega_at(sigma),
        -along(lambda x: price(u, sigma, x, r), t),
        along(lambda x: price(u, sigma, t, x), r),
        along(lambda y: delta_at(u, y), sigma),
        along(vega_at, sigma),
    )


@partial(jax.jit, static_argnames=("use_forwards",))
def _greeks_jit(option_arrays: tuple[jax.Array, ...], use_forwards: bool) -> OptionGreeks:
    arrays = jnp.broadcast_arrays(*option_arrays)
    greeks = _greeks_of_arrays(arrays, use_forwards)
    if greeks.prices.dtype != jnp.float64:
        # One loop for all eight (measured on 2 CPU cores, 1e6 float32 options: 2.3-2.6 ms
        # against 9.1 ms for separate loops over cache-sized blocks; the price alone 1.2 ms).
        # The loop is as fast as the price's only while LLVM vectorises it, which it stops
        # doing when the loop body grows much beyond this one (then 30 ms): keep the math of
        # the price lean (one density, no division in a derivative rule).
        return OptionGreeks(*one_loop(*greeks))
    # float64's erfc makes one loop of all eight too large to vectorise; the second-order
    # Greeks need no CDF, so they take a loop of their own (1e6 options: 26-31 ms against
    # 48-56 ms for one loop; the price alone 8 ms).
    prices, deltas, vegas, thetas, rhos = one_loop(
        greeks.prices, greeks.deltas, greeks.vegas, greeks.thetas, greeks.rhos
    )
    gammas, vannas, volgas = one_loop(greeks.gammas, greeks.vannas, greeks.volgas)
    return OptionGreeks(prices, deltas, gammas, vegas, thetas, rhos, vannas, volgas)


def option_greeks(
    *,
    volatilities: ArrayLike,
    strikes: ArrayLike,
    expiries: ArrayLike,
    spots: ArrayLike | None = None,
    forwards: ArrayLike | None = None,
    discount_rates: ArrayLike | None = None,
    dividend_rates: ArrayLike | None = None,
    is_call_options: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> OptionGreeks:
    """Price, delta, gamma, vega, theta, rho, vanna and volga of European options by autodiff.

    Formula: with ``V`` the Black-Scholes-Merton (``spots=``) or Black-76 (``forwards=``)
    price and ``U`` the spot or forward, ``delta = dV/dU``, ``gamma = d2V/dU2``,
    ``vega = dV/dsigma``, ``theta = -dV/dT``, ``rho = dV/dr``, ``vanna = d2V/dU dsigma``,
    ``volga = d2V/dsigma2``; e.g. for a BSM call ``delta = e^{-qT} N(d1)`` and
    ``gamma = e^{-qT} n(d1) / (S sigma sqrt T)``.  At zero volatility or expiry the Greeks
    are those of the discounted intrinsic value (gamma, vega, vanna, volga = 0 off the strike).

    Example:
        >>> from engines.options import option_greeks
        >>> g = option_greeks(volatilities=0.2, strikes=100.0, expiries=1.0, spots=100.0,
        ...                   discount_rates=0.05)
        >>> [round(float(x), 6) for x in (g.deltas, g.gammas, g.vegas, g.thetas, g.rhos)]
        [0.636831, 0.018762, 37.524035, -6.414028, 53.232482]

    Args:
        volatilities: ``[batch...]`` float, ``sigma >= 0``.
        strikes: ``[batch...]`` float, ``K > 0``.
        expiries: ``[batch...]`` float, ``T >= 0`` in years.
        spots: ``[batch...]`` float, ``S > 0``; default None (give spots or forwards).
        forwards: ``[batch...]`` float, ``F > 0`` for Black-76; default None.
        discount_rates: ``[batch...]`` float, ``r``; default None meaning 0.
        dividend_rates: ``[batch...]`` float, ``q`` (spots only); default None meaning 0.
        is_call_options: ``[batch...]`` bool; default None meaning calls.
        dtype: float32 or float64; default None meaning the dtype of ``volatilities``.

    Returns:
        :class:`OptionGreeks` of ``[batch...]`` arrays (prices first).

    References:
        [1] Griewank, Walther (2008), Evaluating Derivatives; [2] Hull (2022), ch. 19;
        [3] Haug (2007), The Complete Guide to Option Pricing Formulas, ch. 2.
    """
    x = prepare_option_inputs(
        volatilities=volatilities,
        strikes=strikes,
        expiries=expiries,
        spots=spots,
        forwards=forwards,
        discount_rates=discount_rates,
        dividend_rates=dividend_rates,
        is_call_options=is_call_options,
        dtype=dtype,
        first=volatilities,
    )
    return _greeks_jit(x.arrays, x.use_forwards)
