"""The platform subgraph: accounts, organisations with roles, API keys, OAuth clients, plans, the
audit log and watchlists, every object owned by an organisation (PostgreSQL or SQLite)."""

from __future__ import annotations

from nexus.subgraph import Subgraph
from subgraphs.platform.context import make_context
from subgraphs.platform.schema import schema

subgraph = Subgraph(name="platform", schema=schema, make_context=make_context)

__all__ = ["make_context", "schema", "subgraph"]
