"""`POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4).

The client authenticates with HTTP Basic or with `client_id`/`client_secret` form fields
(section 2.3.1, never both); errors are section 5.2's JSON, made by authlib's error classes.
The token's scopes are the requested ones when every one is among the client's, all of the
client's when none is requested (section 3.3), and further limited by the organisation's plan.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nexus.auth.keys import TokenIssuer
from nexus.stores.platform import PlatformStore
from subgraphs.platform.credentials import Credentials, scope_set

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 4096


def token_route(store: PlatformStore, issuer: TokenIssuer, path: str = "/oauth/token") -> Route:
    credentials = Credentials(store)

    async def token(request: Request) -> JSONResponse:
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        try:
            return await _grant(request, credentials, issuer)
        except OAuth2Error as error:
            headers = dict(error.get_headers())
            status = error.status_code
            if isinstance(error, InvalidClientError) and basic:
                status = 401
                headers["WWW-Authenticate"] = 'Basic realm="nexus-alpha"'
            return JSONResponse(dict(error.get_body()), status_code=status, headers=headers)

    return Route(path, token, methods=["POST"])


async def _grant(request: Request, credentials: Credentials, issuer: TokenIssuer) -> JSONResponse:
    if request.headers.get("content-type", "").split(";")[0] != (
        "application/x-www-form-urlencoded"
    ):
        raise InvalidRequestError(description="Send the request as a URL-encoded form.")
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise InvalidRequestError(description="The request is too large.")
    form = await request.form()
    fields = {name: str(value) for name, value in form.items()}
    grant_type = fields.get("grant_type")
    if not grant_type:
        raise InvalidRequestError(description="grant_type is required.")
    if grant_type != "client_credentials":
        raise UnsupportedGrantTypeError(grant_type[:40])
    basic_id, basic_secret = extract_basic_authorization(request.headers)
    form_id, form_secret = fields.get("client_id"), fields.get("client_secret")
    if basic_id is not None and form_secret is not None:
        raise InvalidRequestError(description="Authenticate with one method only.")
    client_id, secret = (basic_id, basic_secret) if basic_id is not None else (form_id, form_secret)
    if not client_id or not secret:
        raise InvalidClientError(description="Client authentication failed.")
    found = await credentials.authenticate_client(client_id, secret)
    if found is None:
        raise InvalidClientError(description="Client authentication failed.")
    client, plan = found
    allowed = scope_set(client.scopes) & scope_set(plan.scopes)
    requested = scope_to_list(fields.get("scope")) or sorted(allowed)
    if not set(requested) <= allowed:
        raise InvalidScopeError(description="The client may not request these scopes.")
    access_token, seconds = issuer.issue(
        subject=client.client_id,
        organization_id=client.organization_id,
        scopes=requested,
        extra={"client_id": client.client_id, "plan": plan.name},
    )
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": seconds,
        "scope": " ".join(sorted(set(requested))),
    }
    return JSONResponse(body, headers=NO_STORE)
