"""The supergraph: read a standard supergraph SDL into the model the planner walks."""

from __future__ import annotations

from graph.supergraph.api_schema import build_api_schema, client_schema_sdl
from graph.supergraph.errors import SupergraphError
from graph.supergraph.model import Supergraph
from graph.supergraph.reader import read_supergraph

__all__ = [
    "Supergraph",
    "SupergraphError",
    "build_api_schema",
    "client_schema_sdl",
    "read_supergraph",
]
