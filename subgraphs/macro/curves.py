"""Yield-curve analytics over Treasury par curves, one engine call per batch of curves.

Everything here is synchronous array work meant to run off the event loop (the loaders call it
through `asyncio.to_thread`). Each function takes every curve of a request at once and makes
ONE call per engine function (`engines.rates`), whatever the number of dates.

Units inside: rates are decimals (0.05 = 5%), times are years. The GraphQL layer converts to
percent and basis points.

The zero curve of a date joins two pieces:

- bills (1M-4M) are zero-coupon: the Treasury quotes them on a bond-equivalent (simple) basis,
  so the price is `1 / (1 + y t)` and the continuously compounded zero rate `ln(1 + y t) / t`;
- from 6M on, `engines.rates.bootstrap_par_curve` bootstraps the semiannual par curve.

Dates publish different tenors (2M from 2018, 4M from 2022, no 30Y in 2002-2006), but a batch
shares one node grid, so a missing tenor is filled before the engine call and the nodes a date
did not publish are left out of what it reports.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines import rates
from nexus.metrics import engine_call

# Every tenor the Treasury publishes, in months (see subgraphs.macro.demo.TENOR_MONTHS).
PAR_MONTHS = (1, 2, 3, 4, 6, 12, 24, 36, 60, 84, 120, 240, 360)
PAR_YEARS = np.asarray(PAR_MONTHS, np.float64) / 12
BILL_MONTHS = PAR_MONTHS[:4]
BILL_YEARS = PAR_YEARS[:4]
COUPON_FREQUENCY = 2
GRID_YEARS = np.arange(1, 61, dtype=np.float64) / COUPON_FREQUENCY  # 0.5 .. 30
NODE_YEARS = np.concatenate([BILL_YEARS, GRID_YEARS])
# Where each published tenor sits among NODE_YEARS (bills first, then 6M = grid node 0).
_TENOR_NODES = np.asarray(
    [
        BILL_MONTHS.index(m) if m in BILL_MONTHS else len(BILL_MONTHS) + m // 6 - 1
        for m in PAR_MONTHS
    ]
)


class CurveModel(enum.Enum):
    NELSON_SIEGEL = "nelson_siegel"
    SVENSSON = "svensson"


@dataclass(frozen=True, slots=True)
class ParCurve:
    """One published par curve, hashable so it can key a DataLoader."""

    date: dt.date
    points: tuple[tuple[int, float], ...]  # (months, par yield in percent), shortest first


@dataclass(frozen=True, slots=True)
class ZeroCurve:
    """A date's zero curve on the nodes it published (bills, then the semiannual grid)."""

    date: dt.date
    times: np.ndarray  # years
    zero_rates: np.ndarray  # decimals, continuously compounded
    discount_factors: np.ndarray
    forward_rates: np.ndarray  # decimals, continuously compounded, (previous node, node]
    node_zero_rates: np.ndarray  # on NODE_YEARS, gaps filled: what bonds are priced on
    tenor_zero_rates: np.ndarray  # at PAR_YEARS, NaN where unpublished: what fits are fitted to


@dataclass(frozen=True, slots=True)
class CurveFit:
    """A Nelson-Siegel(-Svensson) fit as Svensson parameters (NS: b3 = 0, tau2 = tau1)."""

    model: CurveModel
    parameters: tuple[float, float, float, float, float, float]  # b0..b3 decimals, taus years
    rmse: float  # decimals
    observations: int


def padded_size(count: int) -> int:
    """`count` rounded up to a power of 4: XLA compiles once per input shape (tens of seconds
    for the fit), so batches come in a few sizes, at most 4x the work of the exact size."""
    size = 1
    while size < count:
        size *= 4
    return size


def pad_rows(matrix: np.ndarray) -> np.ndarray:
    """`matrix` with its first row repeated up to `padded_size` rows (real data, so every
    padded row is as valid as the first; the extra results are dropped)."""
    extra = padded_size(len(matrix)) - len(matrix)
    return np.concatenate([matrix, np.repeat(matrix[:1], extra, axis=0)]) if extra else matrix


def _par_matrix(curves: Sequence[ParCurve]) -> np.ndarray:
    par = np.full((len(curves), len(PAR_MONTHS)), np.nan)
    column = {months: i for i, months in enumerate(PAR_MONTHS)}
    for row, curve in enumerate(curves):
        for months, percent in curve.points:
            par[row, column[months]] = percent / 100
    return par


def _fill_log_discounts(times: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Zero rates at every node from the published ones: `z t` linear between published nodes
    (so the forward over a gap is the one between its published ends), flat `z` outside."""
    known = np.isfinite(zero)
    t, z = times[known], zero[known]
    filled = np.interp(times, t, z * t) / times
    filled = np.where(times < t[0], z[0], filled)
    return np.where(times > t[-1], z[-1], filled)


@engine_call("bootstrap_par_curve")
def bootstrap_curves(curves: Sequence[ParCurve]) -> list[ZeroCurve]:
    """Zero, discount and forward curves of every date: one bootstrap and one forward call."""
    par = _par_matrix(curves)
    # The bootstrap interpolates par yields linearly between tenors anyway, so filling a missing
    # tenor linearly changes nothing inside the curve; grid nodes past a date's last tenor are
    # computed on a flat extension and then dropped.
    filled_par = np.stack(
        [np.interp(PAR_YEARS, PAR_YEARS[np.isfinite(r)], r[np.isfinite(r)]) for r in par]
    )
    boot = rates.bootstrap_par_curve(
        par_yields=pad_rows(filled_par[:, 4:]), tenors=PAR_YEARS[4:], frequency=COUPON_FREQUENCY
    )
    bills = np.log1p(par[:, :4] * BILL_YEARS) / BILL_YEARS
    last_tenor = np.asarray([np.max(PAR_YEARS[np.isfinite(r)]) for r in par])
    grid = np.asarray(boot.zero_rates, np.float64)[: len(curves)]
    grid = np.where(GRID_YEARS[None, :] <= last_tenor[:, None] + 1e-9, grid, np.nan)
    published = np.concatenate([bills, grid], axis=1)
    nodes = np.stack([_fill_log_discounts(NODE_YEARS, row) for row in published])
    discounts = np.exp(-nodes * NODE_YEARS)
    forwards = np.asarray(
        rates.forward_rates(times=NODE_YEARS, discount_factors=pad_rows(discounts)), np.float64
    )[: len(curves)]
    result = []
    for i, curve in enumerate(curves):
        keep = np.isfinite(published[i])
        result.append(
            ZeroCurve(
                date=curve.date,
                times=NODE_YEARS[keep],
                zero_rates=nodes[i, keep],
                discount_factors=discounts[i, keep],
                forward_rates=forwards[i, keep],
                node_zero_rates=nodes[i],
                tenor_zero_rates=published[i, _TENOR_NODES],
            )
        )
    return result


@engine_call("nelson_siegel_fit")
def fit_curves(zero_curves: Sequence[ZeroCurve], model: CurveModel) -> list[CurveFit]:
    """Fit `model` to the zero rates of every date at its published tenors: one engine call."""
    observed = np.stack([curve.tenor_zero_rates for curve in zero_curves])
    fit = (
        rates.fit_nelson_siegel_svensson
        if model is CurveModel.SVENSSON
        else rates.fit_nelson_siegel
    )(times=PAR_YEARS, yields=pad_rows(observed))
    count = len(zero_curves)
    parameters = np.asarray(fit.parameters, np.float64)[:count]
    if model is CurveModel.NELSON_SIEGEL:  # (b0, b1, b2, tau) -> Svensson form
        b0, b1, b2, tau = parameters.T
        parameters = np.stack([b0, b1, b2, np.zeros_like(b0), tau, tau], axis=1)
    return [
        CurveFit(model, tuple(map(float, row)), float(rmse), int(n))  # type: ignore[arg-type]
        for row, rmse, n in zip(
            parameters,
            np.asarray(fit.rmse)[:count],
            np.asarray(fit.num_observations)[:count],
            strict=True,
        )
    ]


@dataclass(frozen=True, slots=True)
class CurveValues:
    """Zero rates and instantaneous forwards of many fits at a union of tenors."""

    tenors: np.ndarray  # years, sorted, unique
    zero_rates: np.ndarray  # [fits, tenors] decimals
    forward_rates: np.ndarray  # [fits, tenors] decimals


@engine_call("nelson_siegel_svensson_curves")
def evaluate_fits(parameters: Sequence[tuple[float, ...]], tenors: Sequence[float]) -> CurveValues:
    """Every fit at every tenor: one yields call and one forwards call for the whole request."""
    times = np.unique(np.asarray(tenors, np.float64))
    padded_times = pad_rows(times[::-1])[::-1]  # shapes from a few sizes (see padded_size)
    matrix = pad_rows(np.asarray(parameters, np.float64))
    zero = rates.nelson_siegel_svensson_yields(times=padded_times, parameters=matrix)
    forward = rates.nelson_siegel_svensson_forwards(times=padded_times, parameters=matrix)
    rows, columns = len(parameters), len(times)
    return CurveValues(
        times,
        np.asarray(zero, np.float64)[:rows, -columns:],
        np.asarray(forward, np.float64)[:rows, -columns:],
    )
