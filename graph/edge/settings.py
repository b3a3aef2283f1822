"""The edge's configuration, read from environment variables (each with a working default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from graph.edge.budget import open_budget
from graph.edge.cost import DEFAULT_LIST_SIZE
from graph.edge.demand import DemandControl
from graph.edge.http import cors_origins_from_env
from graph.edge.subscriptions import LEASE_SECONDS, SubscriptionQuota, open_leases

DemandMode = Literal["on", "measure", "off"]


class EdgeConfigError(ValueError):
    """An edge environment variable holds a value the router cannot use."""


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    # `on`: refuse over the plan and over budget; `measure`: estimate, debit and report only;
    # `off`: no cost analysis at all.
    demand_control: DemandMode = "on"
    default_list_size: int = DEFAULT_LIST_SIZE  # a list's size when no @listSize says otherwise
    cors_origins: tuple[str, ...] = ()
    # How long a subscription's lease outlives a router that stopped renewing it (seconds).
    subscription_lease_seconds: float = LEASE_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EdgeSettings:
        env = os.environ if environ is None else environ
        mode = env.get("NEXUS_DEMAND_CONTROL", "on").strip().lower()
        if mode not in ("on", "measure", "off"):
            raise EdgeConfigError(
                f"NEXUS_DEMAND_CONTROL must be `on`, `measure` or `off`, not {mode!r}"
            )
        raw_size = env.get("NEXUS_DEFAULT_LIST_SIZE", str(DEFAULT_LIST_SIZE))
        try:
            size = int(raw_size)
        except ValueError:
            size = -1
        if size < 0:
            raise EdgeConfigError(
                f"NEXUS_DEFAULT_LIST_SIZE must be a whole number of items, not {raw_size!r}"
            )
        raw_lease = env.get("NEXUS_SUBSCRIPTION_LEASE_SECONDS", str(LEASE_SECONDS))
        try:
            lease = float(raw_lease)
        except ValueError:
            lease = 0.0
        if not lease >= 1:
            raise EdgeConfigError(
                f"NEXUS_SUBSCRIPTION_LEASE_SECONDS must be at least 1 (seconds), not {raw_lease!r}"
            )
        return cls(mode, size, cors_origins_from_env(env), lease)  # type: ignore[arg-type]

    def demand(self, redis_url: str) -> DemandControl | None:
        """The demand control over the budget store at `redis_url` (None when off)."""
        if self.demand_control == "off":
            return None
        return DemandControl(
            open_budget(redis_url),
            enforce=self.demand_control == "on",
            default_list_size=self.default_list_size,
        )

    def subscription_quota(self, redis_url: str) -> SubscriptionQuota:
        """The plans' subscription caps, shared through the Redis at `redis_url`."""
        return SubscriptionQuota(
            open_leases(redis_url, lease_seconds=self.subscription_lease_seconds)
        )
