"""The instruments a watchlist may hold, as the platform learns them without reading another
subgraph's store: from the shipped demo dataset's keys on load, and from the market domains'
events on the bus (`market.tick` names a crypto token or a stock as it trades).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Iterable, Sequence
from importlib import resources

from sqlalchemy import select, tuple_

from nexus.errors import BadUserInput
from nexus.events import EventError, MarketTick, decode
from nexus.stores.bus import Bus
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform.models import CatalogueInstrument, InstrumentKind

log = logging.getLogger("nexus.platform.catalogue")

# The demo files and the column naming each instrument.
DEMO_FILES = {
    InstrumentKind.TOKEN: ("crypto_candles.csv.gz", "symbol"),
    InstrumentKind.STOCK: ("stock_candles.csv.gz", "symbol"),
    InstrumentKind.SERIES: ("fred_series.csv.gz", "id"),
}
ASSET_KINDS = {"crypto": InstrumentKind.TOKEN, "stock": InstrumentKind.STOCK}

Instrument = tuple[InstrumentKind, str]


def demo_instruments() -> set[Instrument]:
    """Every instrument of the shipped demo dataset."""
    found: set[Instrument] = set()
    data = resources.files("nexus.demo") / "data"
    for kind, (name, column) in DEMO_FILES.items():
        with gzip.open(io.BytesIO(data.joinpath(name).read_bytes()), "rt") as file:
            found.update((kind, row[column].strip().upper()) for row in csv.DictReader(file))
    return found


async def learn(store: PlatformStore, instruments: Iterable[Instrument]) -> int:
    """Adds the instruments not yet known; returns how many were new."""
    wanted = {(InstrumentKind(kind), key.upper()) for kind, key in instruments}
    if not wanted:
        return 0
    async with available(), store.sessions.begin() as session:
        known = set(
            (
                await session.execute(
                    select(CatalogueInstrument.kind, CatalogueInstrument.key).where(
                        tuple_(CatalogueInstrument.kind, CatalogueInstrument.key).in_(
                            sorted(wanted)
                        )
                    )
                )
            ).all()
        )
        new = [(kind, key) for kind, key in sorted(wanted) if (kind, key) not in known]
        session.add_all(CatalogueInstrument(kind=kind, key=key) for kind, key in new)
    return len(new)


async def require_known(store: PlatformStore, instruments: Sequence[Instrument]) -> None:
    """Raises BAD_USER_INPUT naming the first instrument no market domain has announced."""
    if not instruments:
        return
    async with available(), store.sessions() as session:
        known = set(
            (
                await session.execute(
                    select(CatalogueInstrument.kind, CatalogueInstrument.key).where(
                        tuple_(CatalogueInstrument.kind, CatalogueInstrument.key).in_(
                            sorted(set(instruments))
                        )
                    )
                )
            ).all()
        )
    for kind, key in instruments:
        if (kind, key) not in known:
            raise BadUserInput(
                f"no {kind.lower()} has the key {key!r}; check the symbol or series id.",
                field="key",
            )


async def learn_from_bus(store: PlatformStore, bus: Bus) -> None:
    """Runs until cancelled: every market tick's instrument joins the catalogue."""
    subscription = await bus.subscribe("market.*")
    seen: set[Instrument] = set()
    try:
        async for message in subscription:
            try:
                event = decode(message.event)
            except EventError:
                continue
            if not isinstance(event, MarketTick) or event.asset_class not in ASSET_KINDS:
                continue
            instrument = (ASSET_KINDS[event.asset_class], event.symbol.upper())
            if instrument in seen:
                continue
            try:
                await learn(store, [instrument])
            except Exception:  # a store hiccup must not stop the listener
                log.warning("could not add %s %s to the catalogue", *instrument)
                continue
            seen.add(instrument)
    finally:
        await subscription.close()
