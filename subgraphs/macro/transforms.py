"""Series transformations as FRED offers them: frequency aggregation, then a units transform.

FRED's order (https://fred.stlouisfed.org/docs/api/fred/series_observations.html): the
observations are first aggregated to a lower `frequency` (average, sum, or end of period),
then transformed (`units`). With n = periods per year of the (aggregated) frequency:

    lin  x(t)                                   chg  x(t) - x(t-1)
    ch1  x(t) - x(t - 1 year)                   pch  100 * (x(t) / x(t-1) - 1)
    pc1  100 * (x(t) / x(t - 1 year) - 1)       pca  100 * ((x(t) / x(t-1)) ** n - 1)
    cch  100 * (ln x(t) - ln x(t-1))            cca  100 * n * (ln x(t) - ln x(t-1))
    log  ln x(t)

`x(t - 1 year)` is the observation on the same date a year earlier, or the last one before it
(daily series skip holidays, so a count of observations would drift). A value that cannot be
computed (no earlier observation, a log or ratio of a non-positive number) is left out, as FRED
prints "." there. Aggregated periods are labelled by their first day (weeks by Monday), as FRED
labels monthly, quarterly and annual aggregates.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

import numpy as np

PERIODS_PER_YEAR = {
    "Daily": 260,
    "Weekly": 52,
    "Biweekly": 26,
    "Monthly": 12,
    "Quarterly": 4,
    "Semiannual": 2,
    "Annual": 1,
}


class Units(enum.Enum):
    LIN = "lin"
    CHG = "chg"
    CH1 = "ch1"
    PCH = "pch"
    PC1 = "pc1"
    PCA = "pca"
    CCH = "cch"
    CCA = "cca"
    LOG = "log"


class Frequency(enum.Enum):
    WEEK = "Weekly"
    MONTH = "Monthly"
    QUARTER = "Quarterly"
    YEAR = "Annual"


class Aggregation(enum.Enum):
    AVERAGE = "avg"
    SUM = "sum"
    END_OF_PERIOD = "eop"


# Units that look back one observation or one year: the window must start that much earlier.
LOOKBACK_DAYS = {Units.CHG: 400, Units.PCH: 400, Units.PCA: 400, Units.CCH: 400, Units.CCA: 400}
LOOKBACK_DAYS |= {Units.CH1: 380, Units.PC1: 380}


def period_start(day: dt.date, frequency: Frequency) -> dt.date:
    if frequency is Frequency.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if frequency is Frequency.MONTH:
        return day.replace(day=1)
    if frequency is Frequency.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def aggregate(
    dates: Sequence[dt.date],
    values: Sequence[float],
    frequency: Frequency,
    method: Aggregation,
) -> tuple[list[dt.date], np.ndarray]:
    """One value per period holding observations, labelled by the period's first day."""
    if not dates:
        return [], np.zeros(0)
    labels = [period_start(day, frequency) for day in dates]
    array = np.asarray(values, dtype=np.float64)
    # Dates are ascending, so each period is one run of equal labels.
    starts = [0] + [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    bounds = np.asarray(starts)
    if method is Aggregation.SUM:
        result = np.add.reduceat(array, bounds)
    elif method is Aggregation.AVERAGE:
        counts = np.diff(np.append(bounds, len(array)))
        result = np.add.reduceat(array, bounds) / counts
    else:
        ends = np.append(bounds[1:], len(array)) - 1
        result = array[ends]
    return [labels[i] for i in starts], result


def transform(
    dates: Sequence[dt.date], values: np.ndarray, units: Units, periods_per_year: int
) -> tuple[list[dt.date], np.ndarray]:
    """The `units` transform; dates where it is undefined are dropped."""
    x = np.asarray(values, dtype=np.float64)
    if units is Units.LIN or len(x) == 0:
        return list(dates), x
    if units is Units.LOG:
        out = np.full_like(x, np.nan)
        np.log(x, out=out, where=x > 0)
        return _defined(list(dates), out)
    if units in (Units.CH1, Units.PC1):
        previous = _year_ago(dates, x)
    else:
        previous = np.concatenate(([np.nan], x[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(previous > 0, x / previous, np.nan)
        if units in (Units.CHG, Units.CH1):
            out = x - previous
        elif units in (Units.PCH, Units.PC1):
            out = 100.0 * (ratio - 1.0)
        elif units is Units.PCA:
            out = 100.0 * (ratio**periods_per_year - 1.0)
        else:
            logs = np.where((x > 0) & (previous > 0), np.log(x) - np.log(previous), np.nan)
            out = 100.0 * logs * (periods_per_year if units is Units.CCA else 1)
    return _defined(list(dates), out)


def _year_ago(dates: Sequence[dt.date], x: np.ndarray) -> np.ndarray:
    ordinals = np.asarray([day.toordinal() for day in dates])
    targets = np.asarray([_minus_year(day).toordinal() for day in dates])
    # The last observation on or before the same day a year earlier.
    index = np.searchsorted(ordinals, targets, side="right") - 1
    return np.where(index >= 0, x[np.clip(index, 0, None)], np.nan)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _defined(dates: list[dt.date], out: np.ndarray) -> tuple[list[dt.date], np.ndarray]:
    keep = np.isfinite(out)
    return [day for day, ok in zip(dates, keep, strict=True) if ok], out[keep]
