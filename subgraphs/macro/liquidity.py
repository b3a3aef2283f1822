"""Net liquidity and yield-curve inversions, computed from stored series.

Net liquidity, a common macro-to-risk-assets gauge, in billions of US dollars:

    net liquidity = WALCL / 1000 - RRPONTSYD - WTREGEN

- WALCL: the Federal Reserve's total assets, Wednesday level, millions USD (H.4.1 release);
- RRPONTSYD: overnight reverse repurchase agreements, daily, billions USD (NY Fed);
- WTREGEN: the Treasury General Account at the Fed, Wednesday level, billions USD (H.4.1).

One point per WALCL Wednesday; the reverse repo and the TGA are taken on that day or the last
day before it (within a week: older values are not the week's). Units are read from each
series' stated units, never assumed. Without a TGA value the full figure cannot be computed:
`value` is then None and `excluding_tga` (WALCL - RRP) is still given.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from subgraphs.macro.repository import ObservationRecord

FED_ASSETS, REVERSE_REPO, TREASURY_ACCOUNT = "WALCL", "RRPONTSYD", "WTREGEN"
STALE_AFTER = dt.timedelta(days=7)
SCALES = {"thousands": 1e-6, "millions": 1e-3, "billions": 1.0, "trillions": 1e3}


class UnitsUnknown(ValueError):
    """A series' units are not an amount of US dollars this module can convert."""


def billions_per_unit(units: str) -> float:
    """The factor from a FRED dollar unit ("Millions of U.S. Dollars") to billions of USD."""
    words = units.lower()
    if "dollar" not in words:
        raise UnitsUnknown(f"units {units!r} are not US dollars")
    for word, scale in SCALES.items():
        if word in words:
            return scale
    raise UnitsUnknown(f"units {units!r} name no scale (millions, billions...)")


@dataclass(frozen=True, slots=True)
class LiquidityPoint:
    date: dt.date
    fed_assets: float  # billions USD
    reverse_repo: float  # billions USD
    treasury_account: float | None  # billions USD; None when not on record near `date`

    @property
    def excluding_tga(self) -> float:
        return self.fed_assets - self.reverse_repo

    @property
    def value(self) -> float | None:
        if self.treasury_account is None:
            return None
        return self.excluding_tga - self.treasury_account


def _as_of(records: Sequence[ObservationRecord], day: dt.date) -> float | None:
    dates = [r.date for r in records]
    index = bisect.bisect_right(dates, day) - 1
    if index < 0 or day - records[index].date > STALE_AFTER:
        return None
    return records[index].value


def net_liquidity(
    fed_assets: Sequence[ObservationRecord],
    reverse_repo: Sequence[ObservationRecord],
    treasury_account: Sequence[ObservationRecord],
    *,
    scales: tuple[float, float, float],
    start: dt.date,
) -> list[LiquidityPoint]:
    """Points on the Fed's Wednesdays from `start`, oldest first (`scales`: to billions)."""
    points = []
    for record in fed_assets:
        if record.date < start:
            continue
        repo = _as_of(reverse_repo, record.date)
        if repo is None:
            continue  # before the reverse repo series starts: the figure is undefined
        tga = _as_of(treasury_account, record.date)
        points.append(
            LiquidityPoint(
                record.date,
                record.value * scales[0],
                repo * scales[1],
                None if tga is None else tga * scales[2],
            )
        )
    return points


@dataclass(frozen=True, slots=True)
class Inversion:
    start: dt.date
    end: dt.date
    days: int  # business days inverted (days on which both tenors were published)
    deepest: float  # the most negative spread, percentage points
    deepest_date: dt.date
    average: float  # mean spread over the inverted days, percentage points
    ongoing: bool  # still inverted on the last day of the window


def inversions(spreads: Sequence[tuple[dt.date, float]], *, min_days: int) -> list[Inversion]:
    """Runs of consecutive published days with a negative spread, at least `min_days` long."""
    found: list[Inversion] = []
    run: list[tuple[dt.date, float]] = []
    for day, spread in [*spreads, (dt.date.max, 0.0)]:  # the sentinel closes a last run
        if spread < 0:
            run.append((day, spread))
            continue
        if len(run) >= min_days:
            deepest_date, deepest = min(run, key=lambda item: item[1])
            found.append(
                Inversion(
                    start=run[0][0],
                    end=run[-1][0],
                    days=len(run),
                    deepest=deepest,
                    deepest_date=deepest_date,
                    average=sum(s for _, s in run) / len(run),
                    ongoing=bool(spreads) and run[-1][0] == spreads[-1][0],
                )
            )
        run = []
    return found
