"""Crypto subgraph: tokens with daily candles and latest prices, over the `crypto` database."""

from nexus.subgraph import Subgraph
from subgraphs.crypto.loaders import make_context
from subgraphs.crypto.schema import schema

subgraph = Subgraph(name="crypto", schema=schema, make_context=make_context)
