"""The platform's HTTP routes beside GraphQL, for the assembly (`nexus.assembly.app`) to mount."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from nexus.auth.jwks import jwks_route
from subgraphs.platform.oauth import token_route
from subgraphs.platform.services import services_for

if TYPE_CHECKING:
    from nexus.stores import Stores


def identity_routes(stores: Stores) -> list[BaseRoute]:
    """`GET /.well-known/jwks.json` and `POST /oauth/token`."""
    issuer = services_for(stores.settings).issuer
    return [jwks_route(issuer.keys), token_route(stores.require_platform(), issuer)]
