"""The ingestion benchmark's bound: the earliest a pipeline could end with its sink's measured
costs laid over the fetch (`benchmarks.ingest.best_schedule`)."""

from __future__ import annotations

import pytest

from benchmarks.ingest import best_schedule


def test_a_single_page_is_written_once_the_fetch_has_ended() -> None:
    assert best_schedule(fetch=0.17, one=0.23, many=0.23, pages=1) == pytest.approx((0.40, 1))


def test_without_a_cost_per_write_the_last_page_alone_is_left_after_the_fetch() -> None:
    # Pages 1-9 are stored while page 10 is fetched; page 10 takes a tenth of the rows' time.
    end, writes = best_schedule(fetch=1.0, one=0.1, many=0.1, pages=10)
    assert end == pytest.approx(1.01)
    assert writes == 2


def test_a_cost_per_write_above_the_fetch_makes_one_write_best() -> None:
    # A write costs 0.2 s whatever its rows (one write 0.2 s, ten writes 2.0 s).
    assert best_schedule(fetch=0.1, one=0.2, many=2.0, pages=10) == pytest.approx((0.3, 1))


def test_the_first_evening_invocations_figures_bound_fred_under_half_of_bulk() -> None:
    # 2026-12-07 15:29 UTC: fetch-only 0.17 s, the sink alone 0.21 s in one write and 0.66 s
    # in ten; bulk 0.145 s. Two or three writes end at 0.33 s at best: 44% of the bulk rate
    # (later invocations, with a slower bulk insert or a faster fetch, printed up to 58%).
    end, writes = best_schedule(fetch=0.17, one=0.21, many=0.66, pages=10)
    assert writes in (2, 3)
    assert 0.145 / end < 0.5
