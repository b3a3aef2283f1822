"""Compile the jitted engines when a process starts, and keep compiled code on disk.

XLA compiles a jitted engine once per input shape; the first Svensson fit took 20-40 s to
compile on a loaded 2-core machine, longer than the router's subgraph timeout. Two remedies,
both on by default:

- JAX's persistent compilation cache in the data directory (`NEXUS_DATA_DIR/jax-cache`, or
  `JAX_COMPILATION_CACHE_DIR` when set): a restarted process loads compiled code instead of
  compiling it again.
- A warm-up thread started with the app: it runs each served subgraph's engines once on the
  shapes a first request uses (one curve, both models, the standard tenors), off
  the event loop, so `/healthz` and requests are served meanwhile. `/readyz` reports its state
  (`"warmup": "running" | "done" | "failed" | "off"`); with `NEXUS_WARMUP=gate` it answers 503
  until the warm-up is done (for orchestrators that should send traffic only then), with the
  default `background` readiness depends on the stores alone, and `off` skips it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("nexus.warmup")

MODES = ("background", "gate", "off")
CACHE_SUBDIR = "jax-cache"


def enable_compilation_cache(data_dir: Path) -> Path:
    """Point JAX's persistent compilation cache at the data directory (unless the operator
    chose one with JAX_COMPILATION_CACHE_DIR, which JAX reads itself)."""
    import jax

    chosen = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    path = Path(chosen) if chosen else data_dir / CACHE_SUBDIR
    if not chosen:
        path.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(path))
    return path


def _macro() -> None:
    import datetime as dt

    from subgraphs.macro import curves
    from subgraphs.macro.curve_types import STANDARD_TENORS

    # A plausible par curve with every tenor: the shapes of one `yieldCurve(date)` request.
    points = tuple((months, 4.0 + months / 360) for months in curves.PAR_MONTHS)
    zero = curves.bootstrap_curves([curves.ParCurve(dt.date(2024, 1, 2), points)])
    for model in curves.CurveModel:
        fit = curves.fit_curves(zero, model)
        curves.evaluate_fits([fit[0].parameters], STANDARD_TENORS)


# Per subgraph, what compiles long enough to matter. Options, quotes and risk compile per batch
# size or series length (a second or two each), so only the curve fits are warmed.
WARMUPS: dict[str, Sequence[Callable[[], None]]] = {"macro": (_macro,)}


class Warmup:
    """The warm-up of one process: its state for /readyz and how long it took."""

    def __init__(self, mode: str, names: Sequence[str]) -> None:
        self.mode = mode
        self.steps = [step for name in names for step in WARMUPS.get(name, ())]
        self.state = "off" if mode == "off" or not self.steps else "pending"
        self.seconds: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.state != "pending":
            return
        self.state = "running"
        # A plain daemon thread, not the event loop's executor: requests keep its workers.
        self._thread = threading.Thread(target=self._run, name="nexus-warmup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            for step in self.steps:
                step()
        except Exception:  # a failed warm-up only means the first request compiles
            log.exception("engine warm-up failed")
            self.state = "failed"
        else:
            self.state = "done"
        self.seconds = time.perf_counter() - started
        log.info("engine warm-up %s", self.state, extra={"seconds": round(self.seconds, 2)})

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def ready(self) -> bool:
        """Whether the warm-up lets /readyz say ready (only `gate` waits for it)."""
        return self.mode != "gate" or self.state in ("done", "failed", "off")


def warmup_mode(env: dict[str, str] | None = None) -> str:
    mode = (env if env is not None else os.environ).get("NEXUS_WARMUP", "background").lower()
    if mode not in MODES:
        raise ValueError(f"NEXUS_WARMUP={mode!r}: use one of {', '.join(MODES)}")
    return mode
