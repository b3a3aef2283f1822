"""Macro subgraph: FRED series and observations, the Treasury par yield curve.

`subgraph` is built on first use, so that ingestion, which needs only `subgraphs.macro.ddl`,
does not load the schema and the JAX engines behind it (seconds at every `nexus ingest`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nexus.subgraph import Subgraph

    subgraph: Subgraph


def __getattr__(name: str) -> object:
    if name != "subgraph":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from nexus.subgraph import Subgraph
    from subgraphs.macro.loaders import make_context
    from subgraphs.macro.schema import schema

    built = Subgraph(name="macro", schema=schema, make_context=make_context)
    globals()["subgraph"] = built
    return built
