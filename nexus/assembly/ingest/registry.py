"""Every connector, found by module: each module of `nexus.assembly.ingest.connectors` exposes
`CONNECTORS` (a sequence of Connector). Adding a source is adding a module; no shared list to
edit."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from nexus.assembly.ingest import connectors as package
from nexus.assembly.ingest.source import Connector


@cache
def connectors() -> dict[str, Connector]:
    found: dict[str, Connector] = {}
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for connector in getattr(loaded, "CONNECTORS", ()):
            if connector.name in found:
                raise RuntimeError(f"two connectors are named {connector.name!r}")
            found[connector.name] = connector
    return dict(sorted(found.items()))


def connector(name: str) -> Connector:
    known = connectors()
    if name not in known:
        raise KeyError(f"unknown source {name!r}: choose one of {', '.join(known)}")
    return known[name]
