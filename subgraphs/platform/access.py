"""Who may do what: every platform resolver asks here before it reads or writes.

Reads and writes are scoped to `caller.organization_id`; the repository never takes an
organisation from a client. An anonymous caller is UNAUTHENTICATED; a known caller without the
role or scope is FORBIDDEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from strawberry.federation.schema_directives import Authenticated, RequiresScopes

from nexus.auth import Caller
from nexus.errors import Forbidden, Unauthenticated
from subgraphs.platform.models import Role

READ_SCOPE = "platform:read"
WRITE_SCOPE = "platform:write"
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

# The same rules declared on the fields (Federation 2.5), so the router refuses an anonymous or
# unscoped caller before it fetches anything; the functions below still check (roles, and calls
# that reach the subgraph directly).
SIGNED_IN = [Authenticated()]
READS = [Authenticated(), RequiresScopes(scopes=[[READ_SCOPE]])]
WRITES = [Authenticated(), RequiresScopes(scopes=[[READ_SCOPE, WRITE_SCOPE]])]


@dataclass(frozen=True, slots=True)
class Tenant:
    """The organisation a request acts in, and who acts."""

    organization_id: str
    user_id: str | None  # None for an OAuth client; an API key acts for its creator
    role: Role | None  # None for API keys and OAuth clients (their scopes decide)


def signed_in(caller: Caller) -> str:
    """The caller's user id; API keys and OAuth clients do not sign in as a person."""
    if not caller.authenticated:
        raise Unauthenticated("Sign in to use this field.")
    if caller.kind != "user" or caller.user_id is None:
        raise Forbidden("This field needs a signed-in user, not an API key or OAuth client.")
    return caller.user_id


def reader(caller: Caller, role: Role | None) -> Tenant:
    """The tenant of a caller allowed to read its organisation's data."""
    if not caller.authenticated:
        raise Unauthenticated("Sign in or send an API key to read organisation data.")
    if caller.organization_id is None or (caller.kind == "user" and role is None):
        raise Forbidden("You are not a member of this organisation.")
    if READ_SCOPE not in caller.scopes:
        raise Forbidden(f"This needs the {READ_SCOPE} scope.")
    return Tenant(caller.organization_id, caller.user_id, role)


def writer(caller: Caller, role: Role | None) -> Tenant:
    tenant = reader(caller, role)
    if role is Role.VIEWER:
        raise Forbidden("Viewers cannot change the organisation's data.")
    if WRITE_SCOPE not in caller.scopes:
        raise Forbidden(f"This needs the {WRITE_SCOPE} scope.")
    return tenant


def manager(caller: Caller, role: Role | None) -> Tenant:
    """Owners and admins: members, invitations, OAuth clients, the audit log."""
    signed_in(caller)
    tenant = reader(caller, role)
    if role not in MANAGERS:
        raise Forbidden("Only the organisation's owners and admins may do this.")
    return tenant


def forbid(message: str) -> NoReturn:
    raise Forbidden(message)
