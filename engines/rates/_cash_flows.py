"""Cash flows of fixed-rate bullet bonds (internal, shared by the bond engines).

Flow ``k`` (counted back from maturity ``T``) is ``e_k = f T - k`` coupon periods away,
``k < n = ceil(f T)``; it pays ``c F / f``, plus ``F`` at maturity.  The accrued interest is
the elapsed part of the current period, ``(c F / f)(1 - (f T - n + 1))``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from engines import _validation as v
from engines.errors import ParameterRangeError


class BondTerms(NamedTuple):
    """Validated bond terms (internal), broadcast to one shape."""

    coupon_rates: jax.Array
    maturities: jax.Array
    frequencies: jax.Array
    faces: jax.Array


def cash_flows(terms: BondTerms, num_flows: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(periods [..., N], amounts [..., N], accrued [...])``; traceable.

    Flow ``k`` (counted back from maturity) is ``periods[..., k]`` coupon periods away;
    flows past the bond's first coupon have amount 0.
    """
    c, t, f, face = terms.coupon_rates, terms.maturities, terms.frequencies, terms.faces
    total = f * t
    tol = 64 * jnp.finfo(total.dtype).eps * jnp.maximum(total, 1.0)
    nearest = jnp.round(total)
    total = jnp.where(jnp.abs(total - nearest) <= tol, nearest, total)
    count = jnp.ceil(total)
    k = jnp.arange(num_flows, dtype=total.dtype)
    periods = total[..., None] - k
    coupon = c * face / f
    live = k < count[..., None]
    amounts = jnp.where(live, coupon[..., None], 0.0)
    amounts = amounts.at[..., 0].add(face)
    accrued = coupon * (1.0 - (total - count + 1.0))
    return jnp.where(live, periods, 0.0), amounts, accrued


def dirty_price_from_yield(terms: BondTerms, num_flows: int, yields: jax.Array) -> jax.Array:
    """``sum_k A_k (1 + y/f)^(-e_k)``; traceable and differentiable in ``yields``."""
    periods, amounts, _ = cash_flows(terms, num_flows)
    log_growth = jnp.log1p(yields / terms.frequencies)
    return jnp.sum(amounts * jnp.exp(-periods * log_growth[..., None]), axis=-1)


def prepare_terms(
    *,
    first: ArrayLike,
    coupon_rates: ArrayLike,
    maturities: ArrayLike,
    frequencies: ArrayLike,
    faces: ArrayLike,
    dtype: DTypeLike | None,
    extra: dict[str, ArrayLike] | None = None,
) -> tuple[BondTerms, int, dict[str, jax.Array]]:
    """Validate and broadcast bond terms (and ``extra`` arrays) outside jit.

    Returns the terms, the static number of flow slots (a multiple of 8, so portfolios of
    similar maturities share one compilation) and the broadcast arrays by name.
    """
    dt = v.infer_dtype(first, dtype)
    named = [
        ("coupon_rates", v.as_array("coupon_rates", coupon_rates, dt)),
        ("maturities", v.as_array("maturities", maturities, dt)),
        ("frequencies", v.as_array("frequencies", frequencies, dt)),
        ("faces", v.as_array("faces", faces, dt)),
    ]
    named += [(k, v.as_array(k, x, dt)) for k, x in (extra or {}).items()]
    shape = v.broadcast_shape(named)
    arrays = {k: jnp.broadcast_to(x, shape) for k, x in named}
    v.check_all(
        finite=named,
        non_negative=[("coupon_rates", arrays["coupon_rates"])],
        positive=[(k, arrays[k]) for k in ("maturities", "frequencies", "faces")],
    )
    freq = np.asarray(arrays["frequencies"], np.float64)
    if np.any(freq != np.round(freq)):
        raise ParameterRangeError("frequencies must be whole numbers of coupons per year")
    total = np.asarray(arrays["maturities"], np.float64) * freq
    num_flows = max(1, math.ceil(float(total.max(initial=1.0))))
    num_flows = 8 * math.ceil(num_flows / 8)  # fewer recompilations across portfolios
    terms = BondTerms(
        arrays["coupon_rates"], arrays["maturities"], arrays["frequencies"], arrays["faces"]
    )
    return terms, num_flows, arrays


def check_yields(name: str, yields: jax.Array, frequencies: jax.Array) -> None:
    """Yields compounded ``f`` times a year must exceed ``-f`` (growth factor > 0)."""
    if bool(jnp.any(yields / frequencies <= -1.0)):
        raise ParameterRangeError(f"{name} must be > -frequencies (1 + y/f must be positive)")
