"""X recent search, the X filtered stream and Reddit listings against their fakes: pages
followed, posts stored with cashtags, authors, sentiment and `social.posts` events, the
cursor honoured by the next run, 429s waited out, bad payloads quarantined, the token unseen."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from nexus.assembly.ingest.checkpoints import CursorStore
from nexus.assembly.ingest.micro import fixtures
from nexus.events import SOCIAL_CHANNEL, SocialPost, decode
from tests.ingest_micro.conftest import TOKEN, Ingest

RECENT = "/x/2/tweets/search/recent"


async def _posts(ingest: Ingest, source: str) -> list[dict]:
    return await ingest.pipeline.analytics.query(
        f"SELECT id, author, author_followers, cashtags, sentiment, url, "
        f"length(sentiment_probabilities) AS scored FROM {ingest.database}.posts FINAL "
        "WHERE source = {source:String} ORDER BY id",
        {"source": source},
    )


async def test_recent_search_follows_pages_stores_posts_and_publishes_them(
    ingest: Ingest,
) -> None:
    subscription = await ingest.bus.subscribe(SOCIAL_CHANNEL)

    report = await ingest.run("x")

    assert report.error is None
    expected = fixtures.x_posts()
    assert (await ingest.hits())[RECENT] == 3  # 7 posts, 3 a page
    posts = await _posts(ingest, "x")
    assert [p["id"] for p in posts] == sorted(f"x:{p['id']}" for p in expected)
    by_id = {p["id"]: p for p in posts}
    first = by_id[f"x:{fixtures.X_FIRST_ID + 2000}"]  # $TSLA and $GME, by @optionsflowbot
    assert first["cashtags"] == ["TSLA", "GME"]
    assert first["author"] == "optionsflowbot"
    assert first["author_followers"] == 41000
    assert first["url"] == f"https://x.com/optionsflowbot/status/{fixtures.X_FIRST_ID + 2000}"
    assert all(p["sentiment"] is not None and p["scored"] == 3 for p in posts)
    authors = await ingest.pipeline.analytics.query(
        f"SELECT handle, name, followers, following, posts FROM {ingest.database}.authors FINAL "
        "WHERE source = 'x' ORDER BY handle"
    )
    assert authors[0] == {"handle": "deepvalue_kate", "name": "Kate | Deep Value",
                          "followers": 5400, "following": 880, "posts": 9120}
    events = []
    messages = aiter(subscription)
    for _ in expected:
        message = await asyncio.wait_for(anext(messages), 5)
        events.append(decode(message.event))
    assert all(isinstance(e, SocialPost) and e.source == "x" for e in events)
    assert {e.id for e in events} == set(by_id)
    cursor = await CursorStore(ingest.pipeline.analytics, f"{ingest.database}_state").load("x")
    assert cursor == {"since_id": expected[0]["id"]}
    await subscription.close()

    await ingest.reset_hits()
    again = await ingest.run("x")

    assert again.error is None
    assert again.rows == 0 and again.events == 0
    assert (await ingest.hits())[RECENT] == 1  # since_id: nothing newer, one empty page


async def test_a_429_with_only_x_rate_limit_reset_is_waited_out(ingest: Ingest) -> None:
    env = {k: v for k, v in ingest.pipeline.env.items() if k != "NEXUS_INGEST_FAKE_URL"}
    ingest.pipeline.env = {**env, "NEXUS_INGEST_X_URL": f"{ingest.server.url}/x-limited"}

    report = await ingest.run("x")

    assert report.error is None
    assert report.retries == 1  # the third page was refused once, then fetched
    assert (await ingest.hits())["/x-limited/2/tweets/search/recent"] == 4
    assert await ingest.count("posts") == len(fixtures.x_posts())


async def test_a_bad_page_is_dead_lettered_and_the_cursor_stays(ingest: Ingest) -> None:
    await ingest.faults(RECENT, "html")

    report = await ingest.run("x")

    assert report.error is not None and "not JSON" in report.error
    letters = await ingest.dead.letters("x")
    assert len(letters) == 1 and letters[0].stage == "fetch"
    cursor = await CursorStore(ingest.pipeline.analytics, f"{ingest.database}_state").load("x")
    assert cursor == {}
    assert await ingest.count("posts") == 0

    retried = await ingest.run("x")

    assert retried.error is None
    assert await ingest.count("posts") == len(fixtures.x_posts())


async def test_the_token_never_reaches_logs_dead_letters_or_errors(
    ingest: Ingest, caplog: pytest.LogCaptureFixture
) -> None:
    await ingest.faults(RECENT, "500", "truncate", "500", "500", "500")
    with caplog.at_level(logging.DEBUG):
        first = await ingest.run("x")
        second = await ingest.run("x")

    letters = await ingest.dead.letters()
    seen = caplog.text + json.dumps([letter.to_json() for letter in letters])
    seen += str(first.error) + str(second.error)
    assert caplog.records  # the runs logged their retries and failures
    assert TOKEN not in seen
    assert "AAAAAAAA" not in seen


async def test_the_filtered_stream_skips_keep_alives_and_quarantines_a_cut_line(
    ingest: Ingest,
) -> None:
    # Long enough to read every line on a loaded machine; the fake closes after its posts, so
    # the source reconnects until then.
    ingest.pipeline.env = {**ingest.pipeline.env, "NEXUS_X_STREAM_SECONDS": "3"}

    report = await ingest.run("x-stream")

    assert report.error is None
    assert await ingest.count("posts") == len(fixtures.x_posts())
    letters = await ingest.dead.letters("x-stream")
    assert letters and all("stream line" in letter.reason for letter in letters)
    # The stream closes after the fixture's posts: the source reconnected, and the sink
    # stored each post once.
    assert (await ingest.hits())["/x-stream/2/tweets/search/stream"] >= 2
    assert report.rows == len(fixtures.x_posts())


async def test_the_stream_rules_are_synced_to_the_configured_query(ingest: Ingest) -> None:
    rules_url = f"{ingest.server.url}/x-stream/2/tweets/search/stream/rules"
    auth = {"Authorization": "Bearer test"}
    async with httpx.AsyncClient(headers=auth) as client:
        listed = (await client.get(rules_url)).json().get("data", [])
        if listed:  # the fake is shared: start from no rules
            await client.post(rules_url, json={"delete": {"ids": [r["id"] for r in listed]}})
        await client.post(rules_url, json={"add": [
            {"value": "$OLD", "tag": "nexus-alpha"},  # ours, from an older configuration
            {"value": "from:someone", "tag": "another app"},  # not ours: left alone
        ]})
    ingest.pipeline.env = {**ingest.pipeline.env, "NEXUS_X_STREAM_SECONDS": "1",
                           "NEXUS_X_QUERY": "$GME OR $AMC"}

    assert (await ingest.run("x-stream")).error is None

    async with httpx.AsyncClient(headers=auth) as client:
        synced = (await client.get(rules_url)).json()["data"]
    assert sorted((r["value"], r["tag"]) for r in synced) == [
        ("$GME OR $AMC", "nexus-alpha"), ("from:someone", "another app")]

    assert (await ingest.run("x-stream")).error is None  # in agreement: nothing changes

    async with httpx.AsyncClient(headers=auth) as client:
        assert (await client.get(rules_url)).json()["data"] == synced


async def test_reddit_follows_after_skips_posts_without_cashtags_and_resumes(
    ingest: Ingest,
) -> None:
    report = await ingest.run("reddit")

    assert report.error is None
    listing = "/reddit/r/wallstreetbets/new.json"
    assert (await ingest.hits())[listing] == 3  # 8 items, 3 a page
    posts = await _posts(ingest, "reddit")
    items = fixtures.reddit_items("wallstreetbets")
    tagged = [i for i in items if "$" in (i["data"].get("selftext") or i["data"].get("body")
                                           or "") + i["data"].get("title", "")]
    assert len(posts) == len(tagged) == 6
    by_id = {p["id"]: p for p in posts}
    link = by_id[f"reddit:{items[0]['data']['id']}"]
    assert link["cashtags"] == ["GME"]
    assert link["url"].startswith("https://www.reddit.com/r/wallstreetbets/comments/")
    assert link["author"] == "DeepFuckingValue2"
    assert link["author_followers"] is None

    await ingest.reset_hits()
    again = await ingest.run("reddit")

    assert again.rows == 0
    assert (await ingest.hits())[listing] == 1  # the first page is older than the cursor


async def test_reddit_429_and_502_are_retried(ingest: Ingest) -> None:
    await ingest.faults("/reddit/r/wallstreetbets/new.json", "429:0", "502")

    report = await ingest.run("reddit")

    assert report.error is None
    assert report.retries == 2
    assert await ingest.count("posts") == 6


async def test_graphql_serves_ingested_posts_with_their_authors(ingest: Ingest) -> None:
    from subgraphs.micro import subgraph
    from subgraphs.micro.loaders import MicroContext
    from subgraphs.micro.repository import MicroRepository

    await ingest.run("x")
    assert ingest.pipeline.vectors is not None
    context = MicroContext(
        MicroRepository(ingest.pipeline.analytics, ingest.pipeline.vectors, ingest.database),
        ingest.bus,
    )
    result = await subgraph.schema.execute(
        """{ postsByCashtag(cashtag: "gme", source: "x", first: 2) {
              edges { node { id source author url sentimentLabel
                             profile { source handle name followers following posts } } }
              pageInfo { hasNextPage }
        } }""",
        context_value=context,
    )

    assert result.errors is None, result.errors
    assert result.data is not None
    connection = result.data["postsByCashtag"]
    newest = [p for p in fixtures.x_posts() if "GME" in p["text"]][:2]
    assert [edge["node"]["id"] for edge in connection["edges"]] == [
        f"x:{post['id']}" for post in newest
    ]
    assert connection["pageInfo"]["hasNextPage"] is True
    node = connection["edges"][0]["node"]
    assert node["sentimentLabel"] is not None
    assert node["profile"] == {"source": "x", "handle": "squeeze_watch", "name": "Squeeze Watch",
                               "followers": 182000, "following": 310, "posts": 48211}
    assert node["url"] == f"https://x.com/squeeze_watch/status/{newest[0]['id']}"


async def test_a_since_id_older_than_recent_search_reaches_starts_over(ingest: Ingest) -> None:
    cursors = CursorStore(ingest.pipeline.analytics, f"{ingest.database}_state")
    await cursors.ensure_schema()
    await cursors.save("x", {"since_id": "1000"})  # a post from years ago: X answers 400

    report = await ingest.run("x")

    assert report.error is None
    assert await ingest.count("posts") == len(fixtures.x_posts())
    assert await cursors.load("x") == {"since_id": fixtures.x_posts()[0]["id"]}


def test_a_429_without_retry_after_waits_for_the_rate_limit_reset() -> None:
    import time

    import httpx

    from nexus.assembly.ingest.http import _rate_limit_reset

    x_wait = _rate_limit_reset(httpx.Headers({"x-rate-limit-reset": str(int(time.time()) + 30)}))
    reddit_wait = _rate_limit_reset(httpx.Headers({"x-ratelimit-reset": "420"}))

    assert x_wait is not None and 28 <= x_wait <= 30  # X: epoch seconds of the reset
    assert reddit_wait == 420  # Reddit: seconds until the reset
    assert _rate_limit_reset(httpx.Headers({"x-rate-limit-reset": "soon"})) is None


async def test_search_and_stream_at_once_store_and_announce_each_post_once(
    ingest: Ingest,
) -> None:
    ingest.pipeline.env = {**ingest.pipeline.env, "NEXUS_X_STREAM_SECONDS": "2"}

    search, stream = await asyncio.gather(ingest.run("x"), ingest.run("x-stream"))

    assert search.error is None and stream.error is None
    assert search.rows + stream.rows == len(fixtures.x_posts())
    assert search.events + stream.events == len(fixtures.x_posts())
    assert await ingest.count("posts") == len(fixtures.x_posts())


async def test_only_searches_those_cashtags_and_leaves_the_cursor(ingest: Ingest) -> None:
    from nexus.assembly.ingest.records import Window

    report = await ingest.run("x", Window(only=("nok", "BB")))

    assert report.error is None
    posts = await _posts(ingest, "x")
    assert sorted(tag for p in posts for tag in p["cashtags"]) == ["BB", "NOK"]
    cursor = await CursorStore(ingest.pipeline.analytics, f"{ingest.database}_state").load("x")
    assert cursor == {}
