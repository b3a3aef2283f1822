"""Who is calling: the identity the router authenticates once and hands to every subgraph.

`Authenticator` (nexus.auth.authenticator) turns request headers into a `Caller`; a bad credential
raises `AuthenticationError` (UNAUTHENTICATED). The platform subgraph builds the one a process
uses: `subgraphs.platform.services.authenticator_for(stores)`.
"""

from nexus.auth.caller import ANONYMOUS, Caller, CallerKind, PlanLimits
from nexus.auth.errors import AuthenticationError

__all__ = ["ANONYMOUS", "AuthenticationError", "Caller", "CallerKind", "PlanLimits"]
