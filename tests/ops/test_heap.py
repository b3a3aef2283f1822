"""The heap keeper (nexus/heap.py): full collections stop walking long-lived objects, and what
it froze is reclaimed once the connections that held it have closed.

Each scenario runs in a fresh interpreter: freezing is process-wide and would reach into the
test runner's own heap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCENARIO = """
import gc, json, weakref
from nexus import heap

class Node:
    pass

def cycles(n):
    out = []
    for _ in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a
        out.append(a)
    return out

heap.freeze_startup_heap()
report = {"enabled": heap.keeper.enabled}
live = cycles(20_000)  # what 1,000 connections hold, in small
probe = weakref.ref(live[0])
gc.collect()  # a full collection: the keeper freezes what it leaves
report["unfrozen_after_full"] = len(gc.get_objects())
report["live_frozen"] = any(o is live[0] for o in gc.get_objects()) is False
for _ in range(600):
    heap.keeper.opened()
del live  # the clients leave: their objects are cyclic garbage, frozen
gc.collect()
report["garbage_kept_while_frozen"] = probe() is not None
for _ in range(600):
    heap.keeper.closed_one()
report["reclaimed_after_clients_left"] = probe() is None
report["thaws"] = heap.keeper.thaws
print(json.dumps(report))
"""


def run(mode: str) -> dict[str, object]:
    env = {**os.environ, "NEXUS_GC_FREEZE": mode, "PYTHONPATH": str(REPO)}
    output = subprocess.run(
        [sys.executable, "-c", SCENARIO], env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(output.splitlines()[-1]))


def test_a_full_collection_freezes_what_it_leaves_and_closed_clients_are_reclaimed() -> None:
    report = run("on")
    assert report["enabled"] is True
    # 40,000 live objects no longer walked by the next full collection.
    assert isinstance(report["unfrozen_after_full"], int)
    assert report["unfrozen_after_full"] < 5_000
    assert report["live_frozen"] is True
    # The price of freezing, and its bound: kept until enough clients left, then collected.
    assert report["garbage_kept_while_frozen"] is True
    assert report["reclaimed_after_clients_left"] is True
    assert report["thaws"] == 1


def test_startup_mode_freezes_only_the_startup_heap() -> None:
    report = run("startup")
    assert report["enabled"] is False
    assert isinstance(report["unfrozen_after_full"], int)
    assert report["unfrozen_after_full"] >= 40_000  # the next full collection walks them all
    assert report["garbage_kept_while_frozen"] is False  # collected as usual
    assert report["thaws"] == 0
