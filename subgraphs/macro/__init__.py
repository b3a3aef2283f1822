"""Macro subgraph: FRED series and observations, the Treasury par yield curve."""

from nexus.subgraph import Subgraph
from subgraphs.macro.loaders import make_context
from subgraphs.macro.schema import schema

subgraph = Subgraph(name="macro", schema=schema, make_context=make_context)
