"""The request's analytics DataLoaders: every item of a request, one engine call, off the loop.

Each loader gathers the keys its fields asked for in one tick of the event loop, runs the
engines once for all of them on a worker thread (jitted JAX holds the CPU for milliseconds to
seconds), and hands each field its slice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from aiodataloader import DataLoader

from nexus.errors import BadUserInput
from subgraphs.macro import bonds, charts, curves
from subgraphs.macro.repository import CurveRecord, MacroRepository, ObservationRange


def par_curve(record: CurveRecord) -> curves.ParCurve:
    return curves.ParCurve(record.date, tuple(record.points))


@dataclass(frozen=True, slots=True)
class BondRequest:
    """One bond to value: from its yield, or (yield None) on the curve of `curve_date`."""

    bond: bonds.Bond
    yield_rate: float | None
    curve_date: dt.date | None


@dataclass(frozen=True, slots=True)
class SeriesWindow:
    series_id: str
    start: dt.date | None
    end: dt.date | None


@dataclass
class AnalyticsLoaders:
    repository: MacroRepository
    par_curves: DataLoader
    observations: DataLoader
    zero_curves: DataLoader = field(init=False)
    curve_fits: DataLoader = field(init=False)
    fit_values: DataLoader = field(init=False)
    bond_figures: DataLoader = field(init=False)
    downsampled: DataLoader = field(init=False)
    bars: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        self.zero_curves = DataLoader(self._zero_curves)
        self.curve_fits = DataLoader(self._curve_fits)
        self.fit_values = DataLoader(self._fit_values)
        self.bond_figures = DataLoader(self._bond_figures)
        self.downsampled = DataLoader(self._downsampled)
        self.bars = DataLoader(self._bars)

    async def _zero_curves(self, keys: Sequence[curves.ParCurve]) -> list[curves.ZeroCurve]:
        return await asyncio.to_thread(curves.bootstrap_curves, list(keys))

    async def _curve_fits(
        self, keys: Sequence[tuple[curves.ParCurve, curves.CurveModel]]
    ) -> list[curves.CurveFit]:
        zero = await self.zero_curves.load_many([curve for curve, _ in keys])
        by_model: dict[curves.CurveModel, list[int]] = defaultdict(list)
        for i, (_, model) in enumerate(keys):
            by_model[model].append(i)
        found: dict[int, curves.CurveFit] = {}
        for model, members in by_model.items():
            fits = await asyncio.to_thread(curves.fit_curves, [zero[i] for i in members], model)
            found.update(zip(members, fits, strict=True))
        return [found[i] for i in range(len(keys))]

    async def _fit_values(
        self, keys: Sequence[tuple[tuple[float, ...], tuple[float, ...]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(zero rates, forwards) of each (fit parameters, tenors): one call for the union."""
        fits = sorted({parameters for parameters, _ in keys})
        tenors = sorted({t for _, wanted in keys for t in wanted})
        values = await asyncio.to_thread(curves.evaluate_fits, fits, tenors)
        row = {parameters: i for i, parameters in enumerate(fits)}
        column = {float(t): j for j, t in enumerate(values.tenors)}
        result = []
        for parameters, wanted in keys:
            picks = [column[t] for t in wanted]
            i = row[parameters]
            result.append((values.zero_rates[i, picks], values.forward_rates[i, picks]))
        return result

    async def _bond_figures(
        self, keys: Sequence[BondRequest]
    ) -> list[bonds.BondFigures | Exception]:
        days = sorted({k.curve_date for k in keys if k.curve_date is not None})
        records = dict(zip(days, await self.par_curves.load_many(days), strict=True))
        known = [par_curve(r) for r in records.values() if r is not None]
        zero = dict(zip(known, await self.zero_curves.load_many(known), strict=True))
        curve_of = {
            day: zero[par_curve(record)] for day, record in records.items() if record is not None
        }
        valued = [k for k in keys if k.curve_date is None or k.curve_date in curve_of]
        figures = (
            await asyncio.to_thread(
                bonds.bond_figures,
                [k.bond for k in valued],
                [k.yield_rate for k in valued],
                [curve_of.get(k.curve_date) if k.curve_date else None for k in valued],
            )
            if valued
            else []
        )
        by_key = dict(zip(valued, figures, strict=True))
        missing = "No Treasury curve on or before {}: the first is 1990-01-02."
        return [
            by_key.get(k) or BadUserInput(missing.format(k.curve_date), argument="curveDate")
            for k in keys
        ]

    async def _series_points(self, keys: Sequence[SeriesWindow]) -> list[charts.Points]:
        ranges = [ObservationRange(k.series_id, k.start, k.end) for k in keys]
        records = await self.observations.load_many(ranges)
        return [charts.Points([r.date for r in rows], [r.value for r in rows]) for rows in records]

    async def _downsampled(self, keys: Sequence[tuple[SeriesWindow, int]]) -> list[charts.Points]:
        series = await self._series_points([window for window, _ in keys])
        return await asyncio.to_thread(charts.downsample, series, [n for _, n in keys])

    async def _bars(
        self, keys: Sequence[tuple[SeriesWindow, charts.BarInterval]]
    ) -> list[charts.Bars]:
        series = await self._series_points([window for window, _ in keys])
        by_interval: dict[charts.BarInterval, list[int]] = defaultdict(list)
        for i, (_, interval) in enumerate(keys):
            by_interval[interval].append(i)
        found: dict[int, charts.Bars] = {}
        for interval, members in by_interval.items():
            bars = await asyncio.to_thread(charts.resample, [series[i] for i in members], interval)
            found.update(zip(members, bars, strict=True))
        return [found[i] for i in range(len(keys))]
