"""The input objects of the platform mutations."""

from __future__ import annotations

import strawberry

from subgraphs.platform.instruments import InstrumentKind  # the registered GraphQL enum


@strawberry.input(description="A new organisation; the caller becomes its owner.")
class CreateOrganizationInput:
    name: str = strawberry.field(description="Display name, 1-200 characters.")
    slug: str | None = strawberry.field(
        default=None, description="Lower-case and hyphenated; derived from the name when omitted."
    )


@strawberry.input(description="A new user with an organisation of their own.")
class SignUpInput:
    email: str = strawberry.field(description="The address to sign in with.")
    password: str = strawberry.field(description="At least 8 characters; stored only as a hash.")
    display_name: str = strawberry.field(description="The name shown to other members.")
    organization_name: str | None = strawberry.field(
        default=None, description="The new organisation's name; derived from displayName if null."
    )


@strawberry.input(description="One instrument of a watchlist.")
class WatchlistItemInput:
    kind: InstrumentKind = strawberry.field(description="Which domain owns the instrument.")
    key: str = strawberry.field(description="A symbol (BTC, GME) or FRED series id (DGS10).")


@strawberry.input(description="A new watchlist of the caller's organisation, owned by the caller.")
class CreateWatchlistInput:
    name: str = strawberry.field(description="Unique among the caller's watchlists.")
    items: list[WatchlistItemInput] = strawberry.field(
        default_factory=list, description="At most 200 instruments, each known to its domain."
    )
    public: bool = strawberry.field(
        default=False, description="Let every caller, anonymous ones included, read it."
    )
