"""One market clock: what `marketClock` answers is the time the replay's ticks carry."""

from __future__ import annotations

from nexus.assembly.replay import Replay, ReplaySettings
from nexus.stores import Stores
from subgraphs.crypto import subgraph
from tests.support.graphql import execute


async def test_queries_and_ticks_agree_on_the_replays_now(replay_stores: Stores) -> None:
    replay = await Replay.load(replay_stores, ReplaySettings(speed=3600.0, tick_seconds=1.0))
    query = '{ marketClock { now source speed } token(symbol: "BTC") { livePrice { at } } }'
    for _ in range(3):
        step = await replay.step()
        answer = (await execute(subgraph, replay_stores, query))["data"]
        assert answer["marketClock"] == {
            "now": step.at.isoformat(), "source": "REPLAY", "speed": 3600.0,
        }
        btc = next(tick for tick in step.ticks if tick.symbol == "BTC")
        assert answer["token"]["livePrice"]["at"] == btc.at.isoformat() == step.at.isoformat()
