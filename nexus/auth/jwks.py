"""`GET /.well-known/jwks.json`: the public keys our access tokens verify against."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nexus.auth.keys import KeySet

# Routers and partners cache the document; a rotation publishes the new key while the old one
# is still listed, so an hour of caching never sees a token whose key it lacks for long.
CACHE_SECONDS = 3600


def jwks_route(keys: KeySet, path: str = "/.well-known/jwks.json") -> Route:
    document = keys.jwks()

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(
            document,
            headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"},
            media_type="application/jwk-set+json",
        )

    return Route(path, jwks, methods=["GET"])
