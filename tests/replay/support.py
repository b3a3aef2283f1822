"""Reading back what a replay published."""

from __future__ import annotations

from typing import TypeVar

from nexus.events import decode
from nexus.stores.bus import Bus, Subscription

E = TypeVar("E")

END = "test.end"
WALL_CLOCK = 1_700_000_000.0  # a fixed publisher clock: the tests never read the real one


async def received(bus: Bus, subscription: Subscription, kind: type[E]) -> list[E]:
    """The events of `kind` the subscription got so far, in order (it must include END)."""
    await bus.publish(END, {})
    events: list[E] = []
    async for message in subscription:
        if message.channel == END:
            break
        event = decode(message.event)
        if isinstance(event, kind):
            events.append(event)
    await subscription.close()
    return events
