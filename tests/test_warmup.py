"""The engine warm-up: compiled in a background thread at start, reported by /readyz, and
kept on disk by JAX's persistent compilation cache in the data directory."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import jax
import pytest

from nexus.assembly.app import create_app
from nexus.assembly.warmup import Warmup, enable_compilation_cache, warmup_mode
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.analytics import ChdbStore


def test_the_mode_is_checked() -> None:
    assert warmup_mode({}) == "background"
    assert warmup_mode({"NEXUS_WARMUP": "GATE"}) == "gate"
    with pytest.raises(ValueError, match="NEXUS_WARMUP"):
        warmup_mode({"NEXUS_WARMUP": "sometimes"})


def test_only_subgraphs_with_slow_compiles_warm_up() -> None:
    assert Warmup("background", ["platform", "micro"]).state == "off"
    assert Warmup("off", ["macro"]).state == "off"
    gate = Warmup("gate", ["macro"])
    assert gate.state == "pending" and not gate.ready
    assert Warmup("background", ["macro"]).ready  # background never holds readiness


def test_the_cache_goes_to_the_data_dir_unless_jax_is_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = jax.config.jax_compilation_cache_dir
    try:
        monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
        assert enable_compilation_cache(tmp_path) == tmp_path / "jax-cache"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax-cache")
        monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "chosen"))
        assert enable_compilation_cache(tmp_path) == tmp_path / "chosen"
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


class KeptOpen(Stores):
    """The session's chDB store stays open after the app (one data path per process)."""

    async def close(self) -> None:
        return None


async def test_readyz_reports_the_warm_up_and_gate_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analytics: ChdbStore
) -> None:
    monkeypatch.setenv("NEXUS_WARMUP", "gate")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))  # leave JAX's global
    settings = Settings.from_env({"NEXUS_DATA_DIR": str(tmp_path)})
    stores = KeptOpen(settings=settings, analytics=analytics)
    app = create_app(settings, ["macro"], single=True, load_demo_on_start=False, stores=stores)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        assert (await client.get("/healthz")).json() == {"status": "ok"}  # liveness: at once
        first = await client.get("/readyz")
        assert first.json()["warmup"] in ("running", "done")
        if first.json()["warmup"] == "running":
            assert first.status_code == 503 and first.json()["ready"] is False
        deadline = time.monotonic() + 600
        while app.state.warmup.state == "running" and time.monotonic() < deadline:
            await client.get("/healthz")  # the loop stays free while it compiles
            await asyncio.sleep(0.05)
        after = await client.get("/readyz")
        assert after.status_code == 200
        assert after.json()["ready"] is True and after.json()["warmup"] == "done"
        assert set(after.json()["stores"].values()) == {"ok"}
