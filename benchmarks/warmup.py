"""First-call latency of a curve fit: cold, after the start-up warm-up, and from JAX's disk cache.

    .venv/bin/python -m benchmarks.warmup

Each case runs in a fresh Python process and times what the first `yieldCurve(date) { fit }`
request of each model makes the macro subgraph do (bootstrap one curve, fit Nelson-Siegel and
Svensson, evaluate at the standard tenors: `nexus.assembly.warmup._macro`):

- cold: no warm-up, no persistent cache (what a request met before this change);
- after warm-up: the app's warm-up thread ran first (`Warmup.start()`; the process waits for it,
  as `NEXUS_WARMUP=gate` readiness would), then the request's work is timed;
- disk cache: a previous process filled a compilation cache directory, this one only reads it
  (what a restarted `nexus serve` sees with the cache in its data directory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CASE = """
import json, sys, time
from pathlib import Path
mode, cache = sys.argv[1], sys.argv[2]
from nexus.assembly import warmup
if cache != "-":
    warmup.enable_compilation_cache(Path(cache))
if mode == "warm":
    w = warmup.Warmup("gate", ["macro"]); started = time.perf_counter(); w.start(); w.join()
    print(json.dumps({"warmup": time.perf_counter() - started}), flush=True)
start = time.perf_counter(); warmup._macro(); first = time.perf_counter() - start
start = time.perf_counter(); warmup._macro(); second = time.perf_counter() - start
print(json.dumps({"first": first, "second": second}))
"""


def _run(mode: str, cache: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", CASE, mode, cache], env=env, check=True, capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            figures.update(json.loads(line))
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        cold = _run("cold", "-")
        warm = _run("warm", "-")
        filled = _run("cold", directory)  # fills the cache (and is itself a cold start)
        cached = _run("cold", directory)
    print(f"{'case':<44}{'first call s':>14}{'second s':>10}")
    print(f"{'cold (no warm-up, no disk cache)':<44}{cold['first']:>14.2f}{cold['second']:>10.3f}")
    print(f"{'after the warm-up thread':<44}{warm['first']:>14.3f}{warm['second']:>10.3f}")
    print(f"{'  (the warm-up itself, off the loop)':<44}{warm['warmup']:>14.2f}")
    print(f"{'cold, filling the disk cache':<44}{filled['first']:>14.2f}{filled['second']:>10.3f}")
    print(f"{'fresh process reading the disk cache':<44}{cached['first']:>14.2f}"
          f"{cached['second']:>10.3f}")


if __name__ == "__main__":
    main()
