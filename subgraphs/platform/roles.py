"""The GraphQL enum of member roles (the store keeps `models.Role`, with the same values)."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="A member's role in an organisation.")
class Role(enum.Enum):
    OWNER = strawberry.enum_value(
        "OWNER", description="Everything, including making and removing owners."
    )
    ADMIN = strawberry.enum_value(
        "ADMIN", description="Members, invitations, OAuth clients and the audit log."
    )
    MEMBER = strawberry.enum_value(
        "MEMBER", description="Reads and changes the organisation's watchlists and API keys."
    )
    VIEWER = strawberry.enum_value("VIEWER", description="Reads only.")
