"""Batched option pricing: every option of a request in ONE engine call per model.

The DataLoaders of a request receive each field's `OptionBatch` (root `optionAnalytics`,
`impliedVolatilities`, every `Token.optionChain`), concatenate the batches of one model into
columns, call the jitted engine once off the event loop, and hand each field its slice.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.errors import EngineInputError
from engines.options import implied_volatility, option_greeks
from nexus.errors import BadUserInput
from nexus.metrics import engine_call
from subgraphs.crypto.option_inputs import OptionBatch, OptionModel

GREEKS = ("prices", "deltas", "gammas", "vegas", "thetas", "rhos", "vannas", "volgas")


@dataclass(frozen=True, slots=True)
class GreekColumns:
    """Prices and Greeks of one batch, each a float64 array in the batch's order."""

    prices: np.ndarray
    deltas: np.ndarray
    gammas: np.ndarray
    vegas: np.ndarray
    thetas: np.ndarray
    rhos: np.ndarray
    vannas: np.ndarray
    volgas: np.ndarray


@dataclass(frozen=True, slots=True)
class ImpliedColumns:
    volatilities: np.ndarray
    converged: np.ndarray


def _joined(batches: Sequence[OptionBatch], name: str) -> np.ndarray:
    return np.concatenate([getattr(batch, name) for batch in batches])


def _underlying(model: OptionModel, values: np.ndarray) -> dict[str, Any]:
    if model is OptionModel.BLACK_76:
        return {"forwards": values}
    return {"spots": values}


def _slices(batches: Sequence[OptionBatch]) -> list[slice]:
    ends = np.cumsum([len(batch) for batch in batches]).tolist()
    return [slice(end - len(batch), end) for batch, end in zip(batches, ends, strict=True)]


async def _per_model(
    batches: Sequence[OptionBatch],
    compute: Callable[[OptionModel, Sequence[OptionBatch]], list[Any]],
) -> list[Any]:
    """Group the batches by model, compute each group in a worker thread, keep key order."""
    groups: dict[OptionModel, list[int]] = defaultdict(list)
    for index, batch in enumerate(batches):
        groups[batch.model].append(index)
    results: list[Any] = [None] * len(batches)
    for model, indices in groups.items():
        members = [batches[i] for i in indices]
        try:
            outputs = await asyncio.to_thread(compute, model, members)
        except EngineInputError as error:  # inputs were checked first; this is a last guard
            raise BadUserInput(f"The options could not be priced: {error}") from error
        for index, output in zip(indices, outputs, strict=True):
            results[index] = output
    return results


@engine_call("option_greeks")
def _greeks(model: OptionModel, batches: Sequence[OptionBatch]) -> list[GreekColumns]:
    result = option_greeks(
        volatilities=_joined(batches, "volatilities"),
        strikes=_joined(batches, "strikes"),
        expiries=_joined(batches, "expiries"),
        discount_rates=_joined(batches, "rates"),
        dividend_rates=None if model is OptionModel.BLACK_76 else _joined(batches, "dividends"),
        is_call_options=_joined(batches, "calls"),
        **_underlying(model, _joined(batches, "underlyings")),
    )
    columns = {name: np.asarray(getattr(result, name)) for name in GREEKS}
    return [
        GreekColumns(**{name: values[part] for name, values in columns.items()})
        for part in _slices(batches)
    ]


@engine_call("implied_volatility")
def _implied(model: OptionModel, batches: Sequence[OptionBatch]) -> list[ImpliedColumns]:
    result = implied_volatility(
        prices=np.concatenate([batch.prices for batch in batches if batch.prices is not None]),
        strikes=_joined(batches, "strikes"),
        expiries=_joined(batches, "expiries"),
        discount_rates=_joined(batches, "rates"),
        dividend_rates=None if model is OptionModel.BLACK_76 else _joined(batches, "dividends"),
        is_call_options=_joined(batches, "calls"),
        **_underlying(model, _joined(batches, "underlyings")),
    )
    vols = np.asarray(result.implied_volatilities)
    converged = np.asarray(result.converged)
    return [
        ImpliedColumns(vols[part], converged[part])
        for part in _slices(batches)
    ]


async def price_batches(batches: Sequence[OptionBatch]) -> list[GreekColumns]:
    """DataLoader batch function: prices and Greeks, one `option_greeks` call per model."""
    return await _per_model(batches, _greeks)


async def implied_volatility_batches(batches: Sequence[OptionBatch]) -> list[ImpliedColumns]:
    """DataLoader batch function: implied vols, one `implied_volatility` call per model."""
    return await _per_model(batches, _implied)
