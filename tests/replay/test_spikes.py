"""The mention-spike detector on posts made up for each case."""

from __future__ import annotations

import datetime as dt

import pytest

from nexus.assembly.replay.spikes import MentionSpikeDetector
from nexus.events import SocialPost

MIDNIGHT = dt.datetime(2021, 1, 27, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _posts(symbol: str, hour: int, count: int) -> list[SocialPost]:
    start = MIDNIGHT + hour * HOUR
    return [
        SocialPost(
            id=f"{symbol}:{hour}:{n}",
            source="synthetic",
            author="synthetic_lurker",
            author_followers=830,
            text=f"${symbol}",
            cashtags=(symbol,),
            sentiment=0.0,
            synthetic=True,
            created_at=start + n * (HOUR / max(count, 1)),
            published_at=0.0,
        )
        for n in range(count)
    ]


def _detector() -> MentionSpikeDetector:
    return MentionSpikeDetector(
        ["GME", "AMC"], warmup=3, cool_down=3 * HOUR, wall_clock=lambda: 1.0
    )


def _run(detector: MentionSpikeDetector, hourly: dict[int, int], hours: int) -> list:
    spikes = detector.close_windows(MIDNIGHT)
    for hour in range(hours):
        spikes += detector.observe(_posts("GME", hour, hourly.get(hour, 2)))
        spikes += detector.close_windows(MIDNIGHT + (hour + 1) * HOUR)
    return spikes


def test_a_burst_far_above_the_usual_count_is_one_spike() -> None:
    spikes = _run(_detector(), {5: 30}, 8)

    assert len(spikes) == 1
    spike = spikes[0]
    assert (spike.symbol, spike.mentions, spike.window_seconds) == ("GME", 30, 3600.0)
    assert spike.at == MIDNIGHT + 6 * HOUR  # when the window closed
    assert spike.baseline == 2.0 and spike.ratio == 15.0
    assert spike.published_at == 1.0


def test_a_burst_lasting_hours_alerts_once_per_cool_down() -> None:
    spikes = _run(_detector(), dict.fromkeys(range(5, 10), 60), 12)

    assert [spike.at for spike in spikes] == [MIDNIGHT + 6 * HOUR, MIDNIGHT + 9 * HOUR]


def test_a_few_posts_on_a_quiet_symbol_are_not_a_spike() -> None:
    spikes = _run(_detector(), {**dict.fromkeys(range(5), 0), 5: 9}, 8)

    assert spikes == []  # 9 posts against almost none: above the ratio, below the minimum


def test_nothing_alerts_before_the_warmup() -> None:
    assert _run(_detector(), {1: 50}, 3) == []


def test_hours_without_posts_lower_the_baseline() -> None:
    detector = _detector()
    _run(detector, {}, 4)

    detector.close_windows(MIDNIGHT + 52 * HOUR)  # two days without a post: two half-lives

    assert detector.baselines["GME"].level == pytest.approx(2.0 / 4)
    assert detector.baselines["GME"].windows == 52
    assert detector.window_start == MIDNIGHT + 52 * HOUR


def test_rewinding_drops_the_open_window() -> None:
    detector = _detector()
    _run(detector, {}, 4)
    detector.observe(_posts("GME", 4, 40)[:20])

    detector.rewind()
    spikes = detector.close_windows(MIDNIGHT) + detector.close_windows(MIDNIGHT + HOUR)

    assert spikes == [] and detector.counts["GME"] == 0
