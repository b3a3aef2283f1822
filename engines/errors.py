"""Exceptions raised by input validation in :mod:`engines` (always outside ``jax.jit``).

Every error is a subclass of :class:`EngineInputError` (itself a :class:`ValueError`),
one class per kind of mistake, and its message says what to change.
"""

from __future__ import annotations

__all__ = [
    "ConflictingArgumentsError",
    "EngineInputError",
    "InvalidRangeError",
    "NegativeExpiryError",
    "NegativeVolatilityError",
    "NonFiniteInputError",
    "NonPositiveValueError",
    "ParameterRangeError",
    "ShapeMismatchError",
    "UnsupportedDtypeError",
]


class EngineInputError(ValueError):
    """Base class of every input error raised by the engines."""


class ShapeMismatchError(EngineInputError):
    """Arguments whose shapes cannot be broadcast together or have the wrong rank."""


class NonFiniteInputError(EngineInputError):
    """An argument contains NaN or infinite values."""


class NegativeVolatilityError(EngineInputError):
    """A volatility argument is negative."""


class NegativeExpiryError(EngineInputError):
    """An expiry, maturity or time argument is negative."""


class NonPositiveValueError(EngineInputError):
    """A quantity that must be strictly positive (spot, strike, price, reserve) is not."""


class ParameterRangeError(EngineInputError):
    """A model parameter or option (confidence level, window, count) is out of range."""


class UnsupportedDtypeError(EngineInputError, TypeError):
    """A dtype other than float32 or float64 was requested."""


class ConflictingArgumentsError(EngineInputError):
    """Mutually exclusive arguments were both given, or neither of two required ones."""


class InvalidRangeError(EngineInputError):
    """A lower bound is not below its upper bound, or a value lies outside its range."""
