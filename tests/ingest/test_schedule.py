"""The schedule: intervals from the file, the environment, the defaults; runs in a server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from nexus.assembly.ingest.checkpoints import CursorStore
from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.registry import connector
from nexus.assembly.ingest.schedule import Scheduled, ServedSchedule, plan
from nexus.config import ConfigError
from nexus.stores.analytics import ChdbStore
from tests.support.ingest import Databases


def test_each_source_gets_its_interval_from_the_file_the_environment_or_its_default(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ingest.toml"
    config.write_text('[fred]\ninterval_seconds = 900\nonly = ["WALCL", "WTREGEN"]\n')
    env = {"NEXUS_INGEST_TREASURY_INTERVAL": "120"}

    from_file = plan(str(config), [], env)
    assert [(i.connector.name, i.interval_seconds, i.only) for i in from_file] == [
        ("fred", 900.0, ("WALCL", "WTREGEN"))
    ]
    both = plan(str(config), ["fred", "treasury"], env)
    assert [(i.connector.name, i.interval_seconds) for i in both] == [
        ("fred", 900.0),
        ("treasury", 120.0),
    ]
    assert (
        plan(None, ["treasury"], {})[0].interval_seconds == connector("treasury").interval_seconds
    )


@pytest.mark.parametrize(
    ("sources", "env", "message"),
    [
        (["nosuch"], {}, "unknown ingestion source 'nosuch'"),
        (["fred"], {"NEXUS_INGEST_FRED_INTERVAL": "soon"}, "interval must be seconds"),
        (["fred"], {"NEXUS_INGEST_FRED_INTERVAL": "0"}, "at least 1 second"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_reason(
    sources: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        plan(None, sources, env)


async def test_the_served_schedule_ingests_then_stops(
    make_pipeline: Callable[..., Pipeline], analytics: ChdbStore, databases: Databases
) -> None:
    schedule = ServedSchedule(make_pipeline(), [Scheduled(connector("fred"), 3600, ("UNRATE",))])
    cursors = CursorStore(analytics, databases.state)
    await cursors.ensure_schema()

    schedule.start()
    async with asyncio.timeout(60):
        while "UNRATE" not in (await cursors.load("fred")).get("series", {}):
            await asyncio.sleep(0.1)
    await schedule.stop()

    assert schedule.task is not None and schedule.task.done()
    rows = await analytics.query(f"SELECT count() AS n FROM {databases.macro}.observations")
    assert rows[0]["n"] > 500  # UNRATE, monthly since 1980


@pytest.mark.parametrize(
    "env", [{"NEXUS_INGEST_ATTEMPTS": "0"}, {"NEXUS_INGEST_TIMEOUT_SECONDS": "soon"}]
)
def test_bad_retry_settings_are_refused_before_any_run(
    make_pipeline: Callable[..., Pipeline], env: dict[str, str]
) -> None:
    pipeline = make_pipeline(env)
    pipeline.retry = None  # from the environment, as the commands read it
    with pytest.raises(ConfigError, match="NEXUS_INGEST_"):
        pipeline.retry_policy()
