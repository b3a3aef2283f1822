"""The context of one GraphQL request: the caller, its organisation's repositories and fresh
DataLoaders, and the role the caller holds now (read once per request, so a removed member or a
changed role takes effect at once, not when the access token expires)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nexus.auth import ANONYMOUS, Caller
from nexus.errors import Forbidden, Unauthenticated
from subgraphs.platform import access
from subgraphs.platform.accounts import Accounts
from subgraphs.platform.credentials import Credentials
from subgraphs.platform.loaders import PlatformLoaders
from subgraphs.platform.models import Role
from subgraphs.platform.repository import PlatformRepository
from subgraphs.platform.services import PlatformServices, services_for

if TYPE_CHECKING:
    from nexus.stores import Stores
    from nexus.stores.bus import Bus
    from nexus.stores.platform import PlatformStore


@dataclass(slots=True)
class PlatformContext:
    store: PlatformStore
    repository: PlatformRepository
    accounts: Accounts
    credentials: Credentials
    loaders: PlatformLoaders
    services: PlatformServices
    bus: Bus | None = None  # where committed changes are announced (trusted documents)
    caller: Caller = ANONYMOUS  # whose organisation every read and write is scoped to
    _role: asyncio.Future[Role | None] | None = field(default=None, repr=False)

    async def role(self) -> Role | None:
        """The caller's role in its organisation now (None for keys, clients, non-members)."""
        if self._role is None:
            # One lookup per request; its waiters all resume in one loop turn, so the
            # DataLoader calls they make next still land in one batch.
            self._role = asyncio.ensure_future(self._fetch_role())
        return await asyncio.shield(self._role)

    async def _fetch_role(self) -> Role | None:
        caller = self.caller
        if caller.kind == "user" and caller.user_id and caller.organization_id:
            return await self.accounts.role(caller.organization_id, caller.user_id)
        return None

    async def reader(self) -> access.Tenant:
        return access.reader(self.caller, await self.role())

    async def writer(self) -> access.Tenant:
        return access.writer(self.caller, await self.role())

    async def manager(self) -> access.Tenant:
        return access.manager(self.caller, await self.role())

    async def visible_organization(self) -> str | None:
        """The organisation whose rows this request may read; None when it may read none."""
        try:
            return (await self.reader()).organization_id
        except (Unauthenticated, Forbidden):  # a store that is down still raises
            return None


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> PlatformContext:
    """A new context per request, so a DataLoader's cache never outlives its request."""
    store = stores.require_platform()
    services = services_for(stores.settings)
    repository = PlatformRepository(store, caller.organization_id)
    return PlatformContext(
        store=store,
        repository=repository,
        accounts=Accounts(store, services.auth.refresh_token_seconds, stores.bus),
        credentials=Credentials(store, stores.bus),
        loaders=PlatformLoaders(repository),
        services=services,
        bus=stores.bus,
        caller=caller,
    )
