"""NEXUS_REPLAY*: on with the embedded store, off in production, and bad values refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from nexus.assembly.replay import ReplaySettings
from nexus.config import ConfigError, Settings

SERVER = "http://default:pw@clickhouse:8123"


def test_the_replay_is_on_with_embedded_chdb_and_off_with_a_clickhouse_server() -> None:
    assert Settings.from_env({}).replay is True
    assert Settings.from_env({"ANALYTICS_URL": "chdb:///srv/analytics"}).replay is True
    assert Settings.from_env({"ANALYTICS_URL": SERVER}).replay is False


@pytest.mark.parametrize(
    ("value", "analytics_url", "expected"),
    [
        ("on", SERVER, True),
        ("off", "chdb:///srv/analytics", False),
        (" ON ", SERVER, True),
        ("Off", SERVER, False),
        ("", SERVER, False),
    ],
)
def test_nexus_replay_overrides_the_default(value: str, analytics_url: str, expected: bool) -> None:
    settings = Settings.from_env({"NEXUS_REPLAY": value, "ANALYTICS_URL": analytics_url})

    assert settings.replay is expected


def test_the_defaults_replay_a_market_day_a_minute_from_january_2021() -> None:
    settings = ReplaySettings.from_settings(Settings.from_env({}))

    assert settings == ReplaySettings(speed=1440.0, tick_seconds=1.0, start=dt.date(2021, 1, 11))


def test_speed_tick_and_start_are_read() -> None:
    settings = Settings.from_env(
        {
            "NEXUS_REPLAY_SPEED": "86400",
            "NEXUS_REPLAY_TICK_SECONDS": "0.25",
            "NEXUS_REPLAY_START": "2020-03-09",
        }
    )

    assert ReplaySettings.from_settings(settings) == ReplaySettings(
        speed=86400.0, tick_seconds=0.25, start=dt.date(2020, 3, 9)
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEXUS_REPLAY", "yes", "NEXUS_REPLAY must be `on` or `off`, not 'yes'"),
        ("NEXUS_REPLAY", "1", "NEXUS_REPLAY must be `on` or `off`"),
        ("NEXUS_REPLAY_SPEED", "fast", "NEXUS_REPLAY_SPEED must be a number from 0.001 to 1e"),
        ("NEXUS_REPLAY_SPEED", "0", "NEXUS_REPLAY_SPEED must be a number"),
        ("NEXUS_REPLAY_SPEED", "-60", "NEXUS_REPLAY_SPEED must be a number"),
        ("NEXUS_REPLAY_SPEED", "nan", "NEXUS_REPLAY_SPEED must be a number"),
        ("NEXUS_REPLAY_TICK_SECONDS", "0", "NEXUS_REPLAY_TICK_SECONDS must be a number from 0.01"),
        ("NEXUS_REPLAY_TICK_SECONDS", "inf", "NEXUS_REPLAY_TICK_SECONDS must be a number"),
        ("NEXUS_REPLAY_START", "27/01/2021", "NEXUS_REPLAY_START must be a date as YYYY-MM-DD"),
        ("NEXUS_REPLAY_START", "2021-02-30", "NEXUS_REPLAY_START must be a date"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env({name: value})
