"""The context of one GraphQL request: the repository and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexus.auth import ANONYMOUS, Caller
from subgraphs.platform.loaders import PlatformLoaders
from subgraphs.platform.repository import PlatformRepository

if TYPE_CHECKING:
    from nexus.stores import Stores


@dataclass(frozen=True, slots=True)
class PlatformContext:
    repository: PlatformRepository
    loaders: PlatformLoaders
    caller: Caller = ANONYMOUS  # whose organisation every read and write is scoped to


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> PlatformContext:
    """A new context per request, so a DataLoader's cache never outlives its request."""
    repository = PlatformRepository(stores.require_platform())
    return PlatformContext(
        repository=repository, loaders=PlatformLoaders(repository), caller=caller
    )
