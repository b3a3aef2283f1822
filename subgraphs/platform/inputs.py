"""The input objects of the platform mutations."""

from __future__ import annotations

import strawberry

from subgraphs.platform.instruments import InstrumentKind  # the registered GraphQL enum


@strawberry.input(description="A new organization.")
class CreateOrganizationInput:
    name: str = strawberry.field(description="Its display name.")
    slug: str | None = strawberry.field(
        default=None, description="Lower-case and hyphenated; derived from the name when omitted."
    )


@strawberry.input(description="A new user.")
class RegisterUserInput:
    email: str = strawberry.field(description="The e-mail address; must be unused.")
    password: str = strawberry.field(description="At least 8 characters; stored only as a hash.")
    display_name: str = strawberry.field(description="The name shown to others.")
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="The organization to join; none when omitted."
    )


@strawberry.input(description="An instrument to put in a watchlist.")
class WatchlistItemInput:
    kind: InstrumentKind = strawberry.field(description="What `key` names.")
    key: str = strawberry.field(description="A symbol (BTC, GME) or FRED series id (DGS10).")


@strawberry.input(description="A new watchlist.")
class CreateWatchlistInput:
    owner_id: strawberry.ID = strawberry.field(description="The user who will own it.")
    name: str = strawberry.field(description="Its name, unique for its owner.")
    items: list[WatchlistItemInput] = strawberry.field(
        default_factory=list, description="Its instruments, in order; empty when omitted."
    )
