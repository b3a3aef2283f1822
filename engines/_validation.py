"""Input validation helpers, run eagerly outside ``jax.jit``.

Each check raises one :mod:`engines.errors` class with a message that names the argument
and says what to do.  The reductions are small jitted kernels so they run on whatever
device holds the data; :func:`check_all` fuses all of a call's checks into one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from engines.errors import (
    InvalidRangeError,
    NegativeExpiryError,
    NegativeVolatilityError,
    NonFiniteInputError,
    NonPositiveValueError,
    ParameterRangeError,
    ShapeMismatchError,
    UnsupportedDtypeError,
)

_SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64))


def infer_dtype(first: Any, dtype: DTypeLike | None) -> np.dtype[Any]:
    """Return ``dtype`` if given, else the floating dtype of ``first``, else float64."""
    if dtype is not None:
        resolved = np.dtype(dtype)
    elif hasattr(first, "dtype") and np.issubdtype(np.dtype(first.dtype), np.floating):
        resolved = np.dtype(first.dtype)
    else:
        resolved = np.dtype(np.float64)
    if resolved not in _SUPPORTED:
        raise UnsupportedDtypeError(
            f"dtype {resolved} is not supported; pass float32 or float64 arrays or dtype="
        )
    return resolved


def as_array(name: str, value: ArrayLike, dtype: DTypeLike) -> jax.Array:
    """Convert ``value`` to a JAX array of ``dtype``, with a clear error on failure."""
    try:
        return jnp.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ShapeMismatchError(
            f"{name} could not be converted to a {dtype} array: {exc}"
        ) from exc


@jax.jit
def _count_non_finite(x: jax.Array) -> jax.Array:
    return jnp.sum(~jnp.isfinite(x))


@jax.jit
def _count_negative(x: jax.Array) -> jax.Array:
    return jnp.sum(x < 0)


@jax.jit
def _count_non_positive(x: jax.Array) -> jax.Array:
    return jnp.sum(x <= 0)


_FINITE, _NON_NEGATIVE, _POSITIVE = "finite", "non_negative", "positive"


@partial(jax.jit, static_argnames=("kinds",))
def _all_valid(arrays: tuple[jax.Array, ...], kinds: tuple[str, ...]) -> jax.Array:
    """True iff every array passes its check, in one pass per distinct shape.

    The per-element conditions of all arrays of one shape are and-ed elementwise and
    reduced once, so XLA reads each array once in a single fused loop.
    """
    by_shape: dict[tuple[int, ...], jax.Array] = {}
    for x, kind in zip(arrays, kinds, strict=True):
        if kind == _FINITE:
            ok = jnp.isfinite(x)
        elif kind == _NON_NEGATIVE:
            ok = x >= 0
        else:
            ok = x > 0
        by_shape[x.shape] = by_shape[x.shape] & ok if x.shape in by_shape else ok
    flags = [jnp.all(ok) for ok in by_shape.values()]
    return jnp.all(jnp.stack(flags)) if flags else jnp.asarray(True)


def check_all(
    *,
    finite: Sequence[tuple[str, jax.Array]] = (),
    non_negative_volatility: Sequence[tuple[str, jax.Array]] = (),
    non_negative_time: Sequence[tuple[str, jax.Array]] = (),
    non_negative: Sequence[tuple[str, jax.Array]] = (),
    positive: Sequence[tuple[str, jax.Array]] = (),
) -> None:
    """Run many checks as one fused jitted pass returning a flag; raise the first failure.

    Only when the flag says something is wrong are the arrays checked one by one (in this
    order of precedence: non-finite values, negative volatilities, negative times,
    negative values, non-positive values) to raise the precise error.
    """
    negative = [*non_negative_volatility, *non_negative_time, *non_negative]
    checks = (
        [(n, a, _FINITE) for n, a in finite]
        + [(n, a, _NON_NEGATIVE) for n, a in negative]
        + [(n, a, _POSITIVE) for n, a in positive]
    )
    if not checks:
        return
    if bool(_all_valid(tuple(a for _, a, _ in checks), tuple(k for _, _, k in checks))):
        return
    for name, arr in finite:
        check_finite(name, arr)
    for name, arr in non_negative_volatility:
        check_non_negative_volatility(name, arr)
    for name, arr in non_negative_time:
        check_non_negative_time(name, arr)
    for name, arr in non_negative:
        check_non_negative(name, arr)
    for name, arr in positive:
        check_positive(name, arr)


def check_finite(name: str, x: jax.Array) -> None:
    """Raise :class:`NonFiniteInputError` if ``x`` holds NaN or infinity."""
    bad = int(_count_non_finite(x))
    if bad:
        raise NonFiniteInputError(
            f"{name} contains {bad} NaN or infinite value(s); drop or fill them before calling"
        )


def check_non_negative_volatility(name: str, x: jax.Array) -> None:
    """Raise :class:`NegativeVolatilityError` if any entry of ``x`` is negative."""
    bad = int(_count_negative(x))
    if bad:
        raise NegativeVolatilityError(
            f"{name} has {bad} negative value(s); volatilities must be >= 0"
        )


def check_non_negative_time(name: str, x: jax.Array) -> None:
    """Raise :class:`NegativeExpiryError` if any entry of ``x`` is negative."""
    bad = int(_count_negative(x))
    if bad:
        raise NegativeExpiryError(
            f"{name} has {bad} negative value(s); times are year fractions and must be >= 0"
        )


def check_positive(name: str, x: jax.Array) -> None:
    """Raise :class:`NonPositiveValueError` if any entry of ``x`` is <= 0."""
    bad = int(_count_non_positive(x))
    if bad:
        raise NonPositiveValueError(f"{name} has {bad} value(s) <= 0; it must be strictly positive")


def check_non_negative(name: str, x: jax.Array) -> None:
    """Raise :class:`NonPositiveValueError` if any entry of ``x`` is < 0."""
    bad = int(_count_negative(x))
    if bad:
        raise NonPositiveValueError(f"{name} has {bad} negative value(s); it must be >= 0")


def check_range(name: str, value: float, low: float, high: float, *, closed: bool = False) -> None:
    """Raise :class:`ParameterRangeError` unless ``low < value < high`` (``<=`` if closed)."""
    ok = low <= value <= high if closed else low < value < high
    if not ok:
        brackets = "[]" if closed else "()"
        raise ParameterRangeError(
            f"{name}={value} is out of range; "
            f"it must lie in {brackets[0]}{low}, {high}{brackets[1]}"
        )


def as_arrays(
    named: Sequence[tuple[str, ArrayLike]], dtype: DTypeLike
) -> list[tuple[str, jax.Array]]:
    """Convert each named value with :func:`as_array` and check that the shapes broadcast."""
    arrays = [(name, as_array(name, value, dtype)) for name, value in named]
    broadcast_shape(arrays)
    return arrays


def check_below(name: str, x: jax.Array, bound: float) -> None:
    """Raise :class:`ParameterRangeError` if any entry of ``x`` is ``>= bound``."""
    bad = int(np.sum(np.asarray(x) >= bound))
    if bad:
        raise ParameterRangeError(f"{name} has {bad} value(s) >= {bound}; it must be < {bound}")


def check_ordered(
    name_low: str, low: jax.Array, name_high: str, high: jax.Array, *, strict: bool = True
) -> None:
    """Raise :class:`InvalidRangeError` unless ``low < high`` (``<=`` if not strict) everywhere."""
    low_np, high_np = np.asarray(low), np.asarray(high)
    bad = int(np.sum(~(low_np < high_np) if strict else ~(low_np <= high_np)))
    if bad:
        relation = "<" if strict else "<="
        raise InvalidRangeError(
            f"{bad} entries have {name_low} not {relation} {name_high}; "
            f"give each range as {name_low} {relation} {name_high}"
        )


def check_within(
    name: str, x: jax.Array, name_low: str, low: jax.Array, name_high: str, high: jax.Array
) -> None:
    """Raise :class:`InvalidRangeError` unless ``low <= x <= high`` everywhere."""
    x_np = np.asarray(x)
    bad = int(np.sum((x_np < np.asarray(low)) | (x_np > np.asarray(high))))
    if bad:
        raise InvalidRangeError(
            f"{bad} entries of {name} lie outside [{name_low}, {name_high}]; "
            f"give {name} inside its range"
        )


def check_non_decreasing(name: str, x: jax.Array) -> None:
    """Raise :class:`InvalidRangeError` if ``x`` decreases anywhere along its last axis."""
    bad = int(np.sum(np.diff(np.asarray(x), axis=-1) < 0))
    if bad:
        raise InvalidRangeError(
            f"{name} decreases at {bad} place(s); sort each series by {name} first"
        )


def broadcast_shape(named: Sequence[tuple[str, jax.Array]]) -> tuple[int, ...]:
    """Broadcast the shapes of the named arrays or raise :class:`ShapeMismatchError`."""
    try:
        return tuple(np.broadcast_shapes(*(a.shape for _, a in named)))
    except ValueError as exc:
        shapes = ", ".join(f"{n}{tuple(a.shape)}" for n, a in named)
        raise ShapeMismatchError(
            f"argument shapes do not broadcast: {shapes}; give them equal or broadcastable shapes"
        ) from exc


def check_rank(name: str, x: jax.Array, rank: int | Sequence[int]) -> None:
    """Raise :class:`ShapeMismatchError` if ``x.ndim`` is not one of ``rank``."""
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if x.ndim not in ranks:
        raise ShapeMismatchError(
            f"{name} must have rank {' or '.join(map(str, ranks))}, got shape {tuple(x.shape)}"
        )


def check_same_shape(name_a: str, a: jax.Array, name_b: str, b: jax.Array) -> None:
    """Raise :class:`ShapeMismatchError` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ShapeMismatchError(
            f"{name_a}{tuple(a.shape)} and {name_b}{tuple(b.shape)} must have the same shape"
        )
