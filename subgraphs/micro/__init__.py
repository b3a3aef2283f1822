"""Micro subgraph: stocks, their candles and the social posts that mention them, over the
`micro` database and the `micro_post_texts` vector collection."""

from nexus.subgraph import Subgraph
from subgraphs.micro.loaders import make_context
from subgraphs.micro.schema import schema

subgraph = Subgraph(name="micro", schema=schema, make_context=make_context)
