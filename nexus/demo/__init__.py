"""The demo dataset: real public data shipped with the project (see scripts/build_demo_data.py)."""

from pathlib import Path

DEMO_DATA = Path(__file__).resolve().parent / "data"
