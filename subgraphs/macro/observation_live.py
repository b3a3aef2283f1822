"""`macroObservations`: each new value of some series, as ingestion stores it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from nexus.events import MacroObservation, decode, macro_channel
from subgraphs.live import EventStream
from subgraphs.macro.inputs import check_list
from subgraphs.macro.loaders import MacroContext

MAX_SERIES = 50


@strawberry.type(description="A series' newest observation, as ingestion stored it.")
class ObservationUpdate:
    series_id: strawberry.ID = strawberry.field(
        description="The FRED id, or TREASURY_{months}M for a Treasury par yield."
    )
    date: dt.date = strawberry.field(description="The observation's date.")
    value: float = strawberry.field(description="The value, in the series' units.")
    realtime_start: dt.date = strawberry.field(
        description="The first day this value was the published one (its vintage)."
    )
    published_at: float = strawberry.field(
        description="When it was published on the bus, seconds since the Unix epoch."
    )


def update_from(event: MacroObservation) -> ObservationUpdate:
    return ObservationUpdate(
        series_id=strawberry.ID(event.series_id),
        date=dt.date.fromisoformat(event.date),
        value=event.value,
        realtime_start=dt.date.fromisoformat(event.realtime_start),
        published_at=event.published_at,
    )


@strawberry.type
class ObservationSubscription:
    @strawberry.subscription(
        description="The last stored observation of each of `seriesIds` (when there is one), "
        "then every newer one as `nexus ingest` stores it (FRED series, TREASURY_120M...)."
    )
    async def macro_observations(
        self,
        info: Info[MacroContext, None],
        series_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f'Series ids, 1 to {MAX_SERIES}, e.g. ["WALCL"].'),
        ],
    ) -> AsyncGenerator[ObservationUpdate, None]:
        check_list(series_ids, argument="seriesIds", most=MAX_SERIES)
        channels = [macro_channel(str(s).upper()) for s in dict.fromkeys(series_ids)]
        bus = info.context.bus
        stream = await EventStream.open(bus, MacroObservation, *channels)
        try:
            for retained in await bus.last(channels):  # the current values first
                if retained is not None:
                    event = decode(retained)
                    if isinstance(event, MacroObservation):
                        yield update_from(event)
            async for update in stream:
                yield update_from(update)
        finally:
            await stream.close()
