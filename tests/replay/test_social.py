"""Replayed posts and mention spikes over the demo data: the January 2021 squeeze spikes on GME,
a quiet autumn does not, and nothing is written to the store."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest

from nexus.assembly.replay import Replay, ReplaySettings
from nexus.events import MentionSpike, SocialPost
from nexus.stores import Stores
from subgraphs.micro.generator import INFLUENCERS
from tests.replay.support import END, WALL_CLOCK, received

HOURLY = 3600.0  # market seconds per step (one step per real second)


async def _replay_days(
    stores: Stores, start: dt.date, days: int
) -> tuple[list[SocialPost], list[MentionSpike]]:
    bus = stores.require_bus()
    posts_seen = await bus.subscribe("social.posts", END)
    spikes_seen = await bus.subscribe("alert.mentions.*", END)
    replay = await Replay.load(
        stores, ReplaySettings(speed=HOURLY, start=start), wall_clock=lambda: WALL_CLOCK
    )
    for _ in range(days * 24):
        await replay.step()
    return (
        await received(bus, posts_seen, SocialPost),
        await received(bus, spikes_seen, MentionSpike),
    )


async def _stored_posts(stores: Stores) -> int:
    rows = await stores.require_analytics().query("SELECT count() AS n FROM micro.posts")
    return int(rows[0]["n"])


async def test_the_january_2021_squeeze_spikes_gme_mentions(replay_stores: Stores) -> None:
    stored = await _stored_posts(replay_stores)

    posts, spikes = await _replay_days(replay_stores, dt.date(2021, 1, 1), 31)

    followers = dict(INFLUENCERS)
    assert posts and all(post.synthetic and post.source == "synthetic" for post in posts)
    assert all(post.author_followers == followers[post.author] for post in posts)
    assert all(post.published_at == WALL_CLOCK for post in posts)
    assert len({post.id for post in posts}) == len(posts)
    gme_posts = Counter(post.created_at.date() for post in posts if "GME" in post.cashtags)
    first_week = sum(gme_posts[dt.date(2021, 1, day)] for day in range(4, 9))
    squeeze_week = sum(gme_posts[dt.date(2021, 1, day)] for day in range(25, 30))
    assert squeeze_week > 5 * first_week > 0

    gme = [spike for spike in spikes if spike.symbol == "GME"]
    assert gme, spikes
    assert all(dt.date(2021, 1, 13) <= spike.at.date() <= dt.date(2021, 1, 29) for spike in gme)
    assert any(spike.at.date() == dt.date(2021, 1, 27) for spike in gme)
    for spike in spikes:
        assert spike.mentions >= 10 and spike.ratio >= 3.0
        assert spike.ratio == pytest.approx(spike.mentions / spike.baseline, rel=1e-3)
        assert spike.window_seconds == 3600.0
    assert not {spike.symbol for spike in spikes} & {"BTC", "ETH", "USDT"}
    # At most one spike per symbol in any six market hours (the cool-down).
    for symbol in {spike.symbol for spike in spikes}:
        times = sorted(spike.at for spike in spikes if spike.symbol == symbol)
        assert all(b - a >= dt.timedelta(hours=6) for a, b in itertools.pairwise(times))
    # Replayed posts travel on the bus only: the store already holds the history.
    assert await _stored_posts(replay_stores) == stored


async def test_a_quiet_autumn_posts_but_never_spikes(replay_stores: Stores) -> None:
    posts, spikes = await _replay_days(replay_stores, dt.date(2019, 10, 1), 30)

    assert Counter(tag for post in posts for tag in post.cashtags)["GME"] > 50
    assert spikes == []


async def test_stocks_are_posted_about_in_us_hours_and_tokens_all_day(
    replay_stores: Stores,
) -> None:
    posts, _ = await _replay_days(replay_stores, dt.date(2021, 1, 25), 3)

    stock_hours = {post.created_at.hour for post in posts if post.id.startswith("replay:GME:")}
    token_hours = {post.created_at.hour for post in posts if post.id.startswith("replay:BTC:")}
    assert stock_hours <= set(range(12, 24)) and len(stock_hours) > 6
    assert token_hours & set(range(12)) and token_hours & set(range(12, 24))
    assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(posts))
