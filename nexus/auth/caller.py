"""The caller of one request, as the router's edge authenticated it.

The router builds a `Caller` once per request (from a JWT, an API key or an OAuth client token;
`ANONYMOUS` when none is sent) and passes it to every subgraph: in-process through the
context, over HTTP in a header signed by the router. Subgraphs scope every platform read and
write to `caller.organization_id`, and the edge applies `plan` (cost budget, subscriptions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CallerKind = Literal["anonymous", "user", "api_key", "client"]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What a plan allows (rows of the platform store's `plans` table; these are its fields)."""

    name: str
    cost_per_minute: int  # cost units a caller may spend in a sliding minute
    max_operation_cost: int  # the most one operation may be estimated to cost
    max_subscriptions: int  # concurrent subscriptions per caller
    scopes: frozenset[str] = frozenset()  # the scopes a key or token of this plan may carry


# The anonymous plan: market data only, small budget. The platform store holds the real rows;
# this constant is the fallback when no store answers (embedded tests, a subgraph alone).
ANONYMOUS_PLAN = PlanLimits(
    name="anonymous",
    cost_per_minute=1_000,
    max_operation_cost=500,
    max_subscriptions=5,
    scopes=frozenset({"market:read"}),
)


@dataclass(frozen=True, slots=True)
class Caller:
    """One authenticated (or anonymous) caller."""

    kind: CallerKind = "anonymous"
    user_id: str | None = None
    organization_id: str | None = None
    role: str | None = None  # owner, admin, member, viewer (in `organization_id`)
    scopes: frozenset[str] = frozenset({"market:read"})
    plan: PlanLimits = ANONYMOUS_PLAN
    api_key_id: str | None = None  # the key's id when authenticated by an API key
    client_id: str | None = None  # the OAuth client's id for client-credentials tokens
    token_id: str | None = None  # the JWT's `jti`, for audit and revocation
    address: str | None = None  # the client's IP address as the edge saw it (sign-in throttle)
    # An API key restricted to its organisation's trusted documents (registered operations).
    trusted_documents_only: bool = False
    # When the credential stops working (seconds since the epoch; an API key's expiresAt), so
    # a cache of verified keys never outlives the key.
    expires_at: float | None = field(default=None, compare=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def rate_key(self) -> str:
        """Whose budget an operation is debited from: the key, the client, the user."""
        if self.api_key_id:
            return f"key:{self.api_key_id}"
        if self.client_id:
            return f"client:{self.client_id}"
        if self.user_id:
            return f"user:{self.user_id}"
        return "anonymous"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


ANONYMOUS = Caller()
