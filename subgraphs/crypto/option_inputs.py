"""Option inputs: the GraphQL input types and their validation into engine-ready columns.

Every option of a request is checked here, before any engine runs, so a bad value is reported
as BAD_USER_INPUT naming the list, the item's index and the field (`options[3].volatility`),
and nothing is priced for that field while the request's other fields still resolve.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import strawberry

from nexus.errors import BadUserInput
from subgraphs.columns import BooleanColumn, FloatColumn

MAX_OPTIONS = 100_000  # per list: bounds the memory and time one field may take


@strawberry.enum(description="The pricing model of a European option.")
class OptionModel(enum.Enum):
    BLACK_SCHOLES_MERTON = strawberry.enum_value(
        "black_scholes_merton",
        description="Black-Scholes-Merton on a spot price with a continuous dividend yield.",
    )
    BLACK_76 = strawberry.enum_value(
        "black_76", description="Black-76 on a forward or futures price (no dividend yield)."
    )


@strawberry.enum(description="The right an option gives its holder.")
class OptionRight(enum.Enum):
    CALL = strawberry.enum_value("call", description="The right to buy at the strike.")
    PUT = strawberry.enum_value("put", description="The right to sell at the strike.")


_STRIKE = "Strike price, in the underlying's currency (USD for the demo's assets); > 0."
_EXPIRY = "Time to expiry in years (ACT/365: days / 365); >= 0."
_UNDERLYING = (
    "Spot price (BLACK_SCHOLES_MERTON) or forward price (BLACK_76), same currency as the "
    "strike; > 0."
)
_RATE = "Risk-free rate, continuously compounded, as a fraction per year (0.05 = 5%)."
_DIVIDEND = (
    "Continuous dividend (or convenience) yield as a fraction per year; BLACK_SCHOLES_MERTON "
    "only (0 for BLACK_76)."
)


@strawberry.input(description="One European option to price.")
class OptionInput:
    right: OptionRight = strawberry.field(description="CALL or PUT.")
    strike: float = strawberry.field(description=_STRIKE)
    expiry_years: float = strawberry.field(description=_EXPIRY)
    underlying_price: float = strawberry.field(description=_UNDERLYING)
    volatility: float = strawberry.field(
        description="Annualised Black volatility as a fraction (0.2 = 20%); >= 0."
    )
    risk_free_rate: float = strawberry.field(default=0.0, description=_RATE)
    dividend_yield: float = strawberry.field(default=0.0, description=_DIVIDEND)


@strawberry.input(description="One European option whose market price is known.")
class OptionQuoteInput:
    right: OptionRight = strawberry.field(description="CALL or PUT.")
    price: float = strawberry.field(
        description="The option's price, same currency as the strike; >= 0."
    )
    strike: float = strawberry.field(description=_STRIKE)
    expiry_years: float = strawberry.field(description=_EXPIRY)
    underlying_price: float = strawberry.field(description=_UNDERLYING)
    risk_free_rate: float = strawberry.field(default=0.0, description=_RATE)
    dividend_yield: float = strawberry.field(default=0.0, description=_DIVIDEND)


@dataclass(eq=False)
class OptionBatch:
    """One field's options as float64 columns (a DataLoader key: compared by identity)."""

    model: OptionModel
    strikes: np.ndarray
    expiries: np.ndarray
    underlyings: np.ndarray
    volatilities: np.ndarray
    rates: np.ndarray
    dividends: np.ndarray
    calls: np.ndarray
    prices: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return int(self.strikes.shape[0])


def _column(items: Sequence[object], name: str) -> np.ndarray:
    return np.fromiter((getattr(item, name) for item in items), np.float64, len(items))


def _first_bad(
    argument: str, name: str, values: np.ndarray, ok: np.ndarray, rule: str
) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        index = int(bad[0])
        raise BadUserInput(
            f"{argument}[{index}].{name} is {values[index]!r}: {rule} "
            f"({bad.size} item(s) fail this check).",
            argument=argument,
            index=index,
            field=name,
        )


def check_size(argument: str, count: int) -> None:
    if count == 0:
        raise BadUserInput(f"`{argument}` is empty: give at least one option.", argument=argument)
    if count > MAX_OPTIONS:
        raise BadUserInput(
            f"`{argument}` has {count} items; at most {MAX_OPTIONS} per list.", argument=argument
        )


def option_batch(
    model: OptionModel,
    items: Sequence[OptionInput] | Sequence[OptionQuoteInput],
    argument: str = "options",
) -> OptionBatch:
    """Validated columns of `items`; BAD_USER_INPUT naming the first offending item."""
    check_size(argument, len(items))
    quoted = isinstance(items[0], OptionQuoteInput)
    names = [*_COMMON, "price" if quoted else "volatility"]
    columns = {name: _column(items, name) for name in names}
    calls = np.fromiter((item.right is OptionRight.CALL for item in items), bool, len(items))
    return _validated(model, columns, calls, argument)


@strawberry.input(
    description="Options as parallel columns (entry i of every column is option i): the fast "
    "way to send thousands. Columns must have equal lengths."
)
class OptionColumnsInput:
    calls: BooleanColumn = strawberry.field(description="True for a call, false for a put.")
    strikes: FloatColumn = strawberry.field(description=_STRIKE)
    expiry_years: FloatColumn = strawberry.field(description=_EXPIRY)
    underlying_prices: FloatColumn = strawberry.field(description=_UNDERLYING)
    volatilities: FloatColumn = strawberry.field(
        description="Annualised Black volatilities as fractions (0.2 = 20%); >= 0."
    )
    risk_free_rates: FloatColumn | None = strawberry.field(
        default=None, description=_RATE + " Default: all 0."
    )
    dividend_yields: FloatColumn | None = strawberry.field(
        default=None, description=_DIVIDEND + " Default: all 0."
    )


def column_batch(
    model: OptionModel, columns: OptionColumnsInput, argument: str = "columns"
) -> OptionBatch:
    """Validated `columns` (equal lengths, same rules as a list of options)."""
    given: dict[str, np.ndarray] = {
        "strike": columns.strikes,
        "expiry_years": columns.expiry_years,
        "underlying_price": columns.underlying_prices,
        "volatility": columns.volatilities,
    }
    calls: np.ndarray = columns.calls
    count = len(calls)
    check_size(argument, count)
    for name, optional in [
        ("risk_free_rate", columns.risk_free_rates),
        ("dividend_yield", columns.dividend_yields),
    ]:
        given[name] = np.zeros(count) if optional is None else optional
    for name, column in given.items():
        if len(column) != count:
            raise BadUserInput(
                f"{argument}.{name} has {len(column)} entries but {argument}.calls has {count}: "
                "give every column one entry per option.",
                argument=argument, field=name,
            )
    return _validated(model, given, calls, argument)


_COMMON = ("strike", "expiry_years", "underlying_price", "risk_free_rate", "dividend_yield")


def _validated(
    model: OptionModel, columns: dict[str, np.ndarray], calls: np.ndarray, argument: str
) -> OptionBatch:
    quoted = "price" in columns
    for name, values in columns.items():
        _first_bad(argument, name, values, np.isfinite(values), "it must be a finite number")
    rules = {
        "strike": (columns["strike"] > 0, "a strike must be > 0"),
        "expiry_years": (columns["expiry_years"] >= 0, "an expiry must be >= 0 years"),
        "underlying_price": (columns["underlying_price"] > 0, "the underlying price must be > 0"),
    }
    if quoted:
        rules["price"] = (columns["price"] >= 0, "an option price must be >= 0")
    else:
        rules["volatility"] = (columns["volatility"] >= 0, "a volatility must be >= 0")
    if model is OptionModel.BLACK_76:
        rules["dividend_yield"] = (
            columns["dividend_yield"] == 0,
            "BLACK_76 takes no dividend yield: fold it into the forward price",
        )
    for name, (ok, rule) in rules.items():
        _first_bad(argument, name, columns[name], ok, rule)
    count = len(calls)
    return OptionBatch(
        model=model,
        strikes=columns["strike"],
        expiries=columns["expiry_years"],
        underlyings=columns["underlying_price"],
        volatilities=columns.get("volatility", np.zeros(count)),
        rates=columns["risk_free_rate"],
        dividends=columns["dividend_yield"],
        calls=calls,
        prices=columns.get("price"),
    )


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
