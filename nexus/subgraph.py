"""What a subgraph package exports: its federation schema and a per-request context factory.

The router's in-process transport and the standalone ASGI app both go through this record, so a
subgraph is served the same way whether it runs alone or beside the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import strawberry


@dataclass(frozen=True, slots=True)
class Subgraph:
    name: str
    schema: strawberry.federation.Schema
    # Builds the context of ONE request: fresh DataLoaders, so no batch spans two requests.
    # Called as make_context(stores) or make_context(stores, caller) with a nexus.auth.Caller.
    make_context: Callable[..., Any]
