"""The Redis side of ingestion on the machine's Redis (keys under a prefix of the test's own):
pending batches outlive a crash, one process per source, dead letters kept and removed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as redis

from nexus.assembly.ingest.checkpoints import RedisDeadLetters
from nexus.assembly.ingest.errors import AlreadyRunning
from nexus.assembly.ingest.records import Batch, DeadLetter, Record
from nexus.assembly.ingest.stream import READ_AHEAD, RedisRecordStream
from nexus.stores.bus import RedisBus
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"test-ingest-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def batch(n: int) -> Batch:
    return Batch([Record("fred", "macro.series", f"S{n}", {"id": f"S{n}"})], {"n": n})


async def test_a_batch_read_but_not_acknowledged_is_read_again_after_a_crash(prefix: str) -> None:
    first = RedisRecordStream(REDIS_URL, prefix=prefix)
    await first.open("fred")
    await first.add("fred", batch(1))
    await first.add("fred", batch(2))
    entry = await first.read("fred", 0.1)
    assert entry is not None and entry[1].cursor == {"n": 1}
    await first.close()  # the process dies before storing batch 1

    second = RedisRecordStream(REDIS_URL, prefix=prefix)
    await second.open("fred")
    seen = []
    while (entry := await second.read("fred", 0.05)) is not None:
        seen.append(entry[1].cursor["n"])
        await second.ack("fred", entry[0])
    assert seen == [1, 2]  # the pending one first, then the undelivered one, each once
    assert await second.client.xlen(second.key("fred")) == 0  # stored entries are deleted
    await second.close()


async def test_entries_read_ahead_and_acknowledged_together_are_stored_once(prefix: str) -> None:
    # More batches than one XREADGROUP returns; some joined and acknowledged in one call, then
    # the process dies holding read-ahead entries it never stored.
    first = RedisRecordStream(REDIS_URL, prefix=prefix)
    await first.open("fred")
    for n in range(1, READ_AHEAD + 6):
        await first.add("fred", batch(n))
    joined = [await first.read("fred", 0.1) for _ in range(3)]
    await first.ack("fred", *(entry[0] for entry in joined if entry is not None))
    later = await first.read("fred", 0)
    assert later is not None and later[1].cursor == {"n": 4}
    await first.close()

    second = RedisRecordStream(REDIS_URL, prefix=prefix)
    await second.open("fred")
    seen = []
    while (entry := await second.read("fred", 0.05)) is not None:
        seen.append(entry[1].cursor["n"])
        await second.ack("fred", entry[0])
    assert seen == list(range(4, READ_AHEAD + 6))  # each unacknowledged batch once, in order
    assert await second.client.xlen(second.key("fred")) == 0
    await second.close()


async def test_a_batch_of_events_is_published_in_order_in_one_pipeline(prefix: str) -> None:
    bus = RedisBus(REDIS_URL)
    subscription = await bus.subscribe(f"{prefix}whales.*")
    await bus.wait_subscribed()
    events = [(f"{prefix}whales.USDC", {"n": n}, n == 2) for n in range(3)]
    assert await bus.publish_many(events) == 3
    received = []
    async for message in subscription:
        received.append(message.event["n"])
        if len(received) == 3:
            break
    assert received == [0, 1, 2]
    assert await bus.last([f"{prefix}whales.USDC"]) == [{"n": 2}]  # the retained one
    await subscription.close()
    await bus.client.delete(f"nexus:last:{prefix}whales.USDC")
    await bus.close()


async def test_one_process_at_a_time_ingests_a_source(prefix: str) -> None:
    holder = RedisRecordStream(REDIS_URL, prefix=prefix, lease_seconds=0.5)
    other = RedisRecordStream(REDIS_URL, prefix=prefix, lease_seconds=0.5)
    async with holder.lease("fred"):
        with pytest.raises(AlreadyRunning):
            async with other.lease("fred"):
                pass
    async with other.lease("fred"):  # released: free again
        pass
    await holder.close()
    await other.close()


async def test_dead_letters_are_kept_listed_and_removed(prefix: str) -> None:
    letters = RedisDeadLetters(REDIS_URL, prefix=prefix)
    await letters.add(
        [
            DeadLetter("fred", "fetch", "GDP: not JSON", {"request": {}}, {"only": ["GDP"]}),
            DeadLetter("treasury", "fetch", "2022: not XML", {}, {}),
        ]
    )
    [fred] = await letters.letters("fred")
    assert (fred.reason, fred.scope, bool(fred.at)) == ("GDP: not JSON", {"only": ["GDP"]}, True)
    assert len(await letters.letters()) == 2
    await letters.remove([fred.id])
    assert [letter.source for letter in await letters.letters()] == ["treasury"]
    await letters.close()


async def test_entries_another_process_left_come_back_equal_in_either_encoding(
    prefix: str,
) -> None:
    # The producer's own batches are read back from memory; another process's (a killed run,
    # or an earlier version's `Batch.to_json` objects) are decoded from Redis, equal to them.
    letter = DeadLetter("fred", "fetch", "truncated body", {"request": "/fred/series"})
    sent = Batch(
        [Record("fred", "macro.observation", "DGS10/2024-01-02", {"value": "3.95"})],
        {"since": "2024-01-02"},
        [letter],
    )
    first = RedisRecordStream(REDIS_URL, prefix=prefix)
    await first.open("fred")
    await first.add("fred", sent)
    await first.client.xadd(first.key("fred"), {"batch": orjson.dumps(sent.to_json())})
    await first.close()

    second = RedisRecordStream(REDIS_URL, prefix=prefix)
    await second.open("fred")
    received = []
    while (entry := await second.read("fred", 0.05)) is not None:
        received.append(entry[1])
        await second.ack("fred", entry[0])
    await second.close()
    assert received == [sent, sent]
