"""The input objects of the platform mutations."""

from __future__ import annotations

import strawberry

from subgraphs.platform.models import InstrumentKind


@strawberry.input
class CreateOrganizationInput:
    name: str
    slug: str | None = strawberry.field(
        default=None, description="Lower-case and hyphenated; derived from the name when omitted."
    )


@strawberry.input
class RegisterUserInput:
    email: str
    password: str = strawberry.field(description="At least 8 characters; stored only as a hash.")
    display_name: str
    organization_id: strawberry.ID | None = None


@strawberry.input
class WatchlistItemInput:
    kind: InstrumentKind
    key: str = strawberry.field(description="A symbol (BTC, GME) or FRED series id (DGS10).")


@strawberry.input
class CreateWatchlistInput:
    owner_id: strawberry.ID
    name: str
    items: list[WatchlistItemInput] = strawberry.field(default_factory=list)
