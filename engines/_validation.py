"""Input validation helpers, run eagerly outside ``jax.jit``.

Each check raises one :mod:`engines.errors` class with a message that names the argument
and says what to do.  The reductions are small jitted kernels so they run on whatever
device holds the data.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _on_cpu(x: jax.Array) -> bool:
    try:
        return all(d.platform == "cpu" for d in x.devices())
    except (AttributeError, RuntimeError):  # tracers or deleted buffers
        return False


@jax.jit
def _violation_counts(
    finite: tuple[jax.Array, ...],
    negative: tuple[jax.Array, ...],
    non_positive: tuple[jax.Array, ...],
) -> jax.Array:
    counts = [jnp.sum(~jnp.isfinite(x)) for x in finite]
    counts += [jnp.sum(x < 0) for x in negative]
    counts += [jnp.sum(x <= 0) for x in non_positive]
    return jnp.stack(counts) if counts else jnp.zeros((0,), jnp.int32)


def check_all(
    *,
    finite: Sequence[tuple[str, jax.Array]] = (),
    non_negative_volatility: Sequence[tuple[str, jax.Array]] = (),
    non_negative_time: Sequence[tuple[str, jax.Array]] = (),
    non_negative: Sequence[tuple[str, jax.Array]] = (),
    positive: Sequence[tuple[str, jax.Array]] = (),
) -> None:
    """Run many checks in one pass (NumPy on CPU, one fused kernel elsewhere); raise the first.

    Order of precedence: non-finite values, then negative volatilities, negative times,
    negative values, non-positive values.
    """
    negative = [*non_negative_volatility, *non_negative_time, *non_negative]
    all_arrays = [a for _, a in (*finite, *negative, *positive)]
    if all(_on_cpu(a) for a in all_arrays):
        # Two SIMD reductions per array: NaN propagates through min/max and +-inf shows up
        # in max/min, so finiteness and sign checks share them.
        extremes: dict[int, tuple[float, float]] = {}
        for a in all_arrays:
            if id(a) not in extremes:
                host = np.asarray(a)
                extremes[id(a)] = (
                    (float(host.min()), float(host.max())) if host.size else (0.0, 0.0)
                )
        counts = np.array(
            [
                not (np.isfinite(extremes[id(a)][0]) and np.isfinite(extremes[id(a)][1]))
                for _, a in finite
            ]
            + [extremes[id(a)][0] < 0 for _, a in negative]
            + [extremes[id(a)][0] <= 0 for _, a in positive]
        )
    else:
        counts = np.asarray(
            _violation_counts(
                tuple(a for _, a in finite),
                tuple(a for _, a in negative),
                tuple(a for _, a in positive),
            )
        )
    if not counts.any():
        return
    checks = (
        [(n, a, check_finite) for n, a in finite]
        + [(n, a, check_non_negative_volatility) for n, a in non_negative_volatility]
        + [(n, a, check_non_negative_time) for n, a in non_negative_time]
        + [(n, a, check_non_negative) for n, a in non_negative]
        + [(n, a, check_positive) for n, a in positive]
    )
    for (name, arr, check), count in zip(checks, counts, strict=True):
        if count:
            check(name, arr)


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
