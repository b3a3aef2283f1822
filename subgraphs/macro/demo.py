"""Load the macro part of the demo dataset (49 FRED series, the Treasury par curve). Idempotent."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from nexus.demo import DEMO_DATA
from nexus.stores.analytics import AnalyticsStore
from subgraphs.macro.ddl import DATABASE, STATEMENTS

# Column headers of the Treasury file -> maturity in months.
TENOR_MONTHS = {
    "1 Mo": 1,
    "2 Mo": 2,
    "3 Mo": 3,
    "4 Mo": 4,
    "6 Mo": 6,
    "1 Yr": 12,
    "2 Yr": 24,
    "3 Yr": 36,
    "5 Yr": 60,
    "7 Yr": 84,
    "10 Yr": 120,
    "20 Yr": 240,
    "30 Yr": 360,
}


async def ensure_schema(store: AnalyticsStore) -> None:
    for statement in STATEMENTS:
        await store.command(statement)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", newline="") as file:
        reader = csv.reader(file)
        return next(reader), list(reader)


async def load_demo(store: AnalyticsStore, data_dir: Path = DEMO_DATA) -> dict[str, int]:
    await ensure_schema(store)
    _, series = _rows(data_dir / "fred_series.csv.gz")
    await store.insert(f"{DATABASE}.series", ["id", "title", "units", "frequency"], series)
    _, observations = _rows(data_dir / "fred_observations.csv.gz")
    await store.insert(
        f"{DATABASE}.observations",
        ["series_id", "date", "value"],
        [[sid, day, float(value)] for sid, day, value in observations],
    )
    header, curve_rows = _rows(data_dir / "treasury_par_curve.csv.gz")
    points = [
        [row[0], TENOR_MONTHS[tenor], float(rate)]
        for row in curve_rows
        for tenor, rate in zip(header[1:], row[1:], strict=True)
        if rate
    ]
    await store.insert(f"{DATABASE}.par_curve", ["date", "months", "rate"], points)
    for table in ("series", "observations", "par_curve"):
        await store.command(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")
    return {
        "macro.series": len(series),
        "macro.observations": len(observations),
        "macro.par_curve": len(points),
    }
