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

    from nexus.stores import Stores


@dataclass(frozen=True, slots=True)
class Subgraph:
    name: str
    schema: strawberry.federation.Schema
    # Builds the context of ONE request: fresh DataLoaders, so no batch spans two requests.
    make_context: Callable[[Stores], Any]
