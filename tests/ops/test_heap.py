"""The heap keeper (nexus/heap.py): full collections stop walking long-lived objects, what it
froze is reclaimed once the connections that held it have closed, and the requests in flight
at a full collection are not frozen with a small live heap (they were, a few KB per query).

Each scenario runs in a fresh interpreter: freezing is process-wide and would reach into the
test runner's own heap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexus.config import ConfigError, Settings

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
# What 1,000 connections hold, in small: their full collections cost 50+ ms of CPU, these
# milliseconds, so the keeper is told that every full collection is worth freezing after.
heap.keeper.FREEZE_AT_CPU_SECONDS = 0.0
live = cycles(20_000)
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


def _run(scenario: str, mode: str = "on", **variables: str) -> dict[str, object]:
    """`scenario` in a fresh interpreter with NEXUS_GC_FREEZE=`mode` (and `variables`, else
    NEXUS_GC_YOUNG_THRESHOLD unset): its last line's JSON."""
    env = {**os.environ, "NEXUS_GC_FREEZE": mode, "PYTHONPATH": str(REPO), **variables}
    if "NEXUS_GC_YOUNG_THRESHOLD" not in variables:
        env.pop("NEXUS_GC_YOUNG_THRESHOLD", None)
    output = subprocess.run(
        [sys.executable, "-c", scenario], env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(output.splitlines()[-1]))


def test_a_full_collection_freezes_what_it_leaves_and_closed_clients_are_reclaimed() -> None:
    report = _run(SCENARIO, "on")
    assert report["enabled"] is True
    # 40,000 live objects no longer walked by the next full collection.
    assert isinstance(report["unfrozen_after_full"], int)
    assert report["unfrozen_after_full"] < 5_000
    assert report["live_frozen"] is True
    # The price of freezing, and its bound: kept until enough clients left, then collected.
    assert report["garbage_kept_while_frozen"] is True
    assert report["reclaimed_after_clients_left"] is True
    assert report["thaws"] == 1


# What the request scenarios share: a request in flight, cyclic as graphql-core's linked tokens.
IN_FLIGHT = """
import gc, json, weakref
from nexus import heap

class Token:
    pass

def parsed_document(n):
    tokens = [Token() for _ in range(n)]
    for before, after in zip(tokens, tokens[1:]):
        before.next, after.prev = after, before
    return tokens
"""

REQUESTS = """
heap.freeze_startup_heap()
startup = gc.get_freeze_count()
probes = []
for _ in range(300):
    in_flight = parsed_document(2_000)  # a full collection comes while it is in flight
    probes.append(weakref.ref(in_flight[0]))
    gc.collect()
    del in_flight  # the request is answered: its document is cyclic garbage
    heap.keeper.tick()  # the loop watcher's tick, between requests
gc.collect()
print(json.dumps({
    "frozen_since_startup": gc.get_freeze_count() - startup,
    "requests_kept": sum(probe() is not None for probe in probes),
    "freezes": heap.keeper.freezes,
}))
"""

BULK = """
heap.freeze_startup_heap()
heap.keeper.FREEZE_AT_CPU_SECONDS = 0.0  # as if each collection walked a large live heap
startup = gc.get_freeze_count()
most = 0
for _ in range(12):  # large requests in flight during full collections: frozen
    in_flight = parsed_document(150_000)
    gc.collect()
    del in_flight
    heap.keeper.tick()
    most = max(most, gc.get_freeze_count())
print(json.dumps({"startup": startup, "most_frozen": most, "thaws": heap.keeper.thaws}))
"""


def test_requests_in_flight_are_not_frozen_with_a_small_live_heap() -> None:
    """300 requests, each in flight (600,000 cyclic objects in all) during a full collection:
    every one is reclaimed once answered, nothing frozen since startup."""
    report = _run(IN_FLIGHT + REQUESTS)
    assert report["requests_kept"] == 0
    assert report["frozen_since_startup"] == 0
    assert report["freezes"] == 0


MANY_CLIENTS = """
heap.freeze_startup_heap()
clients = max(heap.keeper.FREEZE_WITH_CONNECTIONS, heap.keeper.THAW_AFTER_CLOSED)
for _ in range(clients):
    heap.keeper.opened()  # as many subscription clients as make the keeper freeze regardless
in_flight = parsed_document(2_000)  # cheap to walk: under the CPU threshold
probe = weakref.ref(in_flight[0])
gc.collect()
del in_flight
gc.collect()
report = {"freezes": heap.keeper.freezes, "kept_while_clients_stay": probe() is not None}
for _ in range(clients):
    heap.keeper.closed_one()
report["reclaimed_after_clients_left"] = probe() is None
print(json.dumps(report))
"""


def test_with_many_clients_open_every_full_collection_freezes_until_they_leave() -> None:
    """With 500 subscription clients open (100 or more), a full collection freezes what it
    leaves even when it was cheap (their events would otherwise grow the unfrozen heap into
    50-100 ms pauses); what it froze of a request in flight is reclaimed once they leave."""
    report = _run(IN_FLIGHT + MANY_CLIENTS)
    assert report["freezes"] >= 1
    assert report["kept_while_clients_stay"] is True
    assert report["reclaimed_after_clients_left"] is True


def test_what_is_frozen_at_most_triples_between_thaws() -> None:
    """12 requests large enough to be frozen (3.6 million cyclic objects in all): the thaws
    keep the frozen heap within three times the startup heap, or the startup heap and one
    request."""
    report = _run(IN_FLIGHT + BULK)
    startup, most, thaws = (int(str(report[k])) for k in ("startup", "most_frozen", "thaws"))
    request = 150_001  # one request's objects: its nodes and their list
    assert most <= max(3 * startup, startup + request)
    assert thaws >= 6


def test_startup_mode_freezes_only_the_startup_heap() -> None:
    report = _run(SCENARIO, "startup")
    assert report["enabled"] is False
    assert isinstance(report["unfrozen_after_full"], int)
    assert report["unfrozen_after_full"] >= 40_000  # the next full collection walks them all
    assert report["garbage_kept_while_frozen"] is False  # collected as usual
    assert report["thaws"] == 0


THRESHOLD = """
import gc, json
from nexus import heap
before = gc.get_threshold()
heap.freeze_startup_heap()
print(json.dumps({"before": before, "after": gc.get_threshold()}))
"""


def test_servers_collect_the_young_generation_every_10000_objects_unless_told_otherwise() -> None:
    report = _run(THRESHOLD, "on")
    assert report["before"] == [700, 10, 10]  # Python's defaults
    assert report["after"] == [10_000, 10, 10]
    # Set whether or not the heap is frozen.
    report = _run(THRESHOLD, "off", NEXUS_GC_YOUNG_THRESHOLD="700")
    assert report["after"] == [700, 10, 10]


def test_a_bad_gc_setting_stops_the_command_with_the_variable_named(tmp_path: Path) -> None:
    for variable, value in (
        ("NEXUS_GC_YOUNG_THRESHOLD", "lots"),
        ("NEXUS_GC_YOUNG_THRESHOLD", "50"),
        ("NEXUS_GC_FREEZE", "sometimes"),
    ):
        with pytest.raises(ConfigError, match=variable):
            Settings.from_env({variable: value})
        env = {**os.environ, variable: value, "PYTHONPATH": str(REPO)}
        env["NEXUS_DATA_DIR"] = str(tmp_path)  # where a migration would go, were it to run
        finished = subprocess.run(
            [sys.executable, "-m", "nexus.assembly.cli", "migrate"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert finished.returncode == 2
        assert finished.stderr.startswith(f"nexus: {variable} must be")
        assert "Traceback" not in finished.stderr
