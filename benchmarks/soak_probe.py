"""`nexus` under tracemalloc, for the soak's `--trace`: where the server's memory goes.

    SOAK_TRACE_DIR=DIR python -m benchmarks.soak_probe serve --port PORT

Runs the `nexus` command; the first SIGUSR1 starts tracemalloc (SOAK_TRACE_FRAMES frames per
allocation, default 12): tracing the startup (imports, the demo load) would slow it tenfold,
and growth only needs what is allocated after a warm-up. That and each later SIGUSR1 write,
in DIR, `snap-N.tracemalloc` (compare two with `Snapshot.compare_to(old, "traceback")`) and
`stats-N.json`: the Python heap tracemalloc sees (bytes allocated since tracing started and
still alive), the objects the garbage collector tracks by type (not the frozen ones:
unfreezing them to look would change what the heap keeper does) and how many are frozen, and
the process's RSS. A Python heap flat while RSS grows points at native memory (chDB, XLA, the
allocator's arenas); a frozen count that grows, at objects the keeper froze (nexus/heap.py).
A diagnostic only: `gc.get_objects()` holds a reference to every object while other threads
run, which can fail one that is resizing a tuple it is building (SystemError).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _type_counts() -> Counter[str]:
    """Tracked objects by type; the frozen ones are invisible to gc.get_objects()."""
    return Counter(
        f"{type(item).__module__}.{type(item).__qualname__}" for item in gc.get_objects()
    )


def main() -> int:
    out = Path(os.environ["SOAK_TRACE_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    taken = 0

    def dump(signum: int, frame: FrameType | None) -> None:
        nonlocal taken
        taken += 1
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(os.environ.get("SOAK_TRACE_FRAMES", "12")))
        snapshot = tracemalloc.take_snapshot()
        snapshot.dump(str(out / f"snap-{taken}.tracemalloc"))
        current, peak = tracemalloc.get_traced_memory()
        stats = {
            "python_heap_bytes": current,
            "python_heap_peak_bytes": peak,
            "tracemalloc_overhead_bytes": tracemalloc.get_tracemalloc_memory(),
            "rss_kib": _rss_kib(),
            "frozen_objects": gc.get_freeze_count(),
            "gc_tracked_by_type": _type_counts().most_common(300),
        }
        partial = out / f"stats-{taken}.json.part"
        partial.write_text(json.dumps(stats))
        partial.rename(out / f"stats-{taken}.json")  # whole or absent for the reader

    signal.signal(signal.SIGUSR1, dump)
    from nexus.assembly.cli import main as nexus_main

    return nexus_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
