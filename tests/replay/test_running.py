"""The replay as a service: started by the app when configured, stopped before the stores close,
carrying on through a bus outage; `nexus replay` refuses an in-process bus."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from nexus.assembly.app import create_app
from nexus.assembly.cli import main
from nexus.assembly.replay import ReplaySettings, start_replay
from nexus.assembly.replay.command import run_replay
from nexus.config import Settings
from nexus.errors import StoreUnavailable
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore, Params, Row
from nexus.stores.bus import InProcessBus

FAST = {"NEXUS_REPLAY_TICK_SECONDS": "0.01", "NEXUS_REPLAY_SPEED": "3600"}


class CountingBus(InProcessBus):
    """An in-process bus that counts publishes, and fails them while `down`."""

    def __init__(self) -> None:
        super().__init__(queue_size=100_000)
        self.published = 0
        self.refused = 0
        self.down = False
        self.changed = asyncio.Event()

    async def publish(self, channel: str, event: Mapping[str, Any], *, retain: bool = False) -> int:
        self.changed.set()
        if self.down:
            self.refused += 1
            raise StoreUnavailable("bus")
        self.published += 1
        return await super().publish(channel, event, retain=retain)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


class BorrowedStore:
    """The session's chDB store lent to an app: the app's shutdown must not close it."""

    def __init__(self, store: ChdbStore) -> None:
        self.store = store
        self.round_trips = 0
        self.reads_batches = store.reads_batches

    async def query(self, sql: str, params: Params | None = None) -> list[Row]:
        return await self.store.query(sql, params)

    async def command(self, sql: str, params: Params | None = None) -> None:
        await self.store.command(sql, params)

    async def insert_select(self, sql: str, params: Params | None = None) -> int:
        return await self.store.insert_select(sql, params)

    async def insert_batch(self, sql: str, batch: Any, params: Params | None = None) -> int:
        return await self.store.insert_batch(sql, batch, params)

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        await self.store.insert(table, columns, rows)

    async def close(self) -> None:
        return None


async def _serving(
    analytics: ChdbStore, tmp_path: Path, names: list[str], env: dict[str, str]
) -> tuple[CountingBus, Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]]:
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path), **FAST, **env})
    bus = CountingBus()
    stores = Stores(settings=settings, analytics=BorrowedStore(analytics), bus=bus)  # type: ignore[arg-type]
    app = create_app(settings, names, single=True, load_demo_on_start=False, stores=stores)

    async def serve(while_serving: Callable[[], Awaitable[None]]) -> None:
        async with app.router.lifespan_context(app):
            await while_serving()

    return bus, serve


async def test_the_app_replays_while_it_serves_and_stops_before_the_stores_close(
    analytics: ChdbStore, micro_load: dict[str, int], tmp_path: Path
) -> None:
    bus, serve = await _serving(analytics, tmp_path, ["crypto"], {"NEXUS_REPLAY": "on"})

    async def ticking() -> None:
        await bus.until(lambda: bus.published >= 20)

    await serve(ticking)
    stopped_at = bus.published
    await asyncio.sleep(0.1)

    assert bus.published == stopped_at
    assert (await bus.last(["market.BTC"]))[0] is not None


@pytest.mark.parametrize(
    ("names", "env"),
    [(["crypto"], {"NEXUS_REPLAY": "off"}), (["macro"], {"NEXUS_REPLAY": "on"})],
)
async def test_no_replay_when_off_or_when_nothing_served_has_market_data(
    analytics: ChdbStore,
    micro_load: dict[str, int],
    tmp_path: Path,
    names: list[str],
    env: dict[str, str],
) -> None:
    bus, serve = await _serving(analytics, tmp_path, names, env)

    await serve(lambda: asyncio.sleep(0.1))

    assert bus.published == 0


async def test_the_replay_carries_on_through_a_bus_outage(
    analytics: ChdbStore,
    micro_load: dict[str, int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = CountingBus()
    stores = Stores(settings=Settings.from_env({}), analytics=analytics, bus=bus)
    bus.down = True
    replay = await start_replay(stores, ReplaySettings(speed=3600.0, tick_seconds=0.01))
    try:
        with caplog.at_level(logging.WARNING, logger="nexus.replay"):
            await bus.until(lambda: bus.refused >= 5)
        bus.down = False
        await bus.until(lambda: bus.published >= 20)
    finally:
        await replay.stop()

    outages = [r for r in caplog.records if "could not publish" in r.getMessage()]
    assert len(outages) == 1  # once per outage, not once per tick


def test_nexus_replay_needs_a_shared_bus(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_replay(Settings.from_env({"REDIS_URL": "memory://"})) == 2
    assert "REDIS_URL=redis://" in capsys.readouterr().err


def test_a_bad_setting_stops_the_command_with_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXUS_REPLAY", "sometimes")

    assert main(["replay"]) == 2
    assert "NEXUS_REPLAY must be `on` or `off`, not 'sometimes'" in capsys.readouterr().err
