"""Shared fixtures for the engines tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


def _shared_data() -> Path:
    """The real data: $NEXUS_SHARED_DATA when set, else ``../shared/data`` beside the checkout."""
    configured = os.environ.get("NEXUS_SHARED_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


SHARED_DATA = _shared_data()
TREASURY_CSV = SHARED_DATA / "treasury" / "yield-curve-rates-1990-2024.csv"
TREASURY_TENORS = np.array(
    [1 / 12, 2 / 12, 3 / 12, 4 / 12, 6 / 12, 1, 2, 3, 5, 7, 10, 20, 30], dtype=np.float64
)


def load_treasury_par_yields() -> tuple[list[str], np.ndarray]:
    """Dates and par yields in decimals ``[num_dates, 13]``, oldest first, NaN where missing."""
    lines = TREASURY_CSV.read_text().strip().splitlines()[1:]
    dates: list[str] = []
    rows: list[list[float]] = []
    for line in lines:
        cells = line.split(",")
        dates.append(cells[0])
        rows.append([float(c) / 100 if c else np.nan for c in cells[1:14]])
    return dates[::-1], np.array(rows[::-1])


@pytest.fixture(scope="session")
def treasury_par_yields() -> tuple[list[str], np.ndarray]:
    if not TREASURY_CSV.exists():
        pytest.skip(f"real Treasury data not found at {TREASURY_CSV} (expected ../shared/data)")
    return load_treasury_par_yields()
