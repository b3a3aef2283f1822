"""Who is calling: the identity the router authenticates once and hands to every subgraph."""

from nexus.auth.caller import ANONYMOUS, Caller, CallerKind, PlanLimits

__all__ = ["ANONYMOUS", "Caller", "CallerKind", "PlanLimits"]
