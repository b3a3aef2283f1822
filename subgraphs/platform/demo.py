"""The platform part of the demo: the instrument catalogue of the shipped dataset, one
organisation, one user and a public watchlist that spans the three market subgraphs (the
cross-subgraph query of the supergraph resolves its items, with no sign-in).

The demo user's password is random and never shown. Idempotent: the user is looked up by
e-mail before anything is created.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import catalogue
from subgraphs.platform.accounts import Accounts
from subgraphs.platform.models import CatalogueInstrument, InstrumentKind, User
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


async def _demo_user(store: PlatformStore) -> User | None:
    async with available(), store.sessions() as session:
        return await session.scalar(select(User).where(User.email == DEMO_EMAIL))


async def is_loaded(store: PlatformStore) -> bool:
    """The demo user exists and the catalogue has instruments (an install migrated from 0001
    has the user but not yet the catalogue)."""
    if await _demo_user(store) is None:
        return False
    async with available(), store.sessions() as session:
        return await session.scalar(select(CatalogueInstrument.key).limit(1)) is not None


async def load_demo(store: PlatformStore) -> dict[str, int]:
    learnt = await catalogue.learn(store, catalogue.demo_instruments())
    if await _demo_user(store) is None:
        accounts = Accounts(store, refresh_seconds=60)
        session = await accounts.sign_up(
            DEMO_EMAIL, secrets.token_urlsafe(24), "Demo Analyst", "Nexus Demo", None
        )
        await accounts.sign_out(session.refresh_token)
        repository = PlatformRepository(store, session.organization.id)
        await repository.create_watchlist(
            session.user.id, "Meme and macro", DEMO_WATCHLIST, public=True
        )
    return {"platform.instruments": learnt, "platform.watchlist_items": len(DEMO_WATCHLIST)}
