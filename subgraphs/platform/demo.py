"""The platform part of the demo: one organisation, one user and a watchlist that spans the
three market subgraphs (the cross-subgraph query of the supergraph resolves its items).

The demo user's password is random and never shown: sign-in arrives with the auth issue.
Idempotent: the user is looked up by e-mail before anything is created.
"""

from __future__ import annotations

import secrets

from nexus.stores.platform import PlatformStore
from subgraphs.platform.models import InstrumentKind
from subgraphs.platform.repository import PlatformRepository

DEMO_EMAIL = "demo@nexus-alpha.dev"
DEMO_WATCHLIST = [
    (InstrumentKind.TOKEN, "BTC"),
    (InstrumentKind.TOKEN, "ETH"),
    (InstrumentKind.STOCK, "GME"),
    (InstrumentKind.STOCK, "AMC"),
    (InstrumentKind.SERIES, "DGS10"),
    (InstrumentKind.SERIES, "WALCL"),
]


async def is_loaded(store: PlatformStore) -> bool:
    return await PlatformRepository(store).user_by_email(DEMO_EMAIL) is not None


async def load_demo(store: PlatformStore) -> dict[str, int]:
    repository = PlatformRepository(store)
    if await repository.user_by_email(DEMO_EMAIL) is None:
        organization = await repository.create_organization("Nexus Demo", "nexus-demo")
        user = await repository.register_user(
            DEMO_EMAIL, secrets.token_urlsafe(24), "Demo Analyst", organization.id
        )
        await repository.create_watchlist(user.id, "Meme and macro", DEMO_WATCHLIST)
    return {"platform.users": 1, "platform.watchlist_items": len(DEMO_WATCHLIST)}
