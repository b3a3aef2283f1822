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
        return cls(mode, size, cors_origins_from_env(env))  # type: ignore[arg-type]

    def demand(self, redis_url: str) -> DemandControl | None:
        """The demand control over the budget store at `redis_url` (None when off)."""
        if self.demand_control == "off":
            return None
        return DemandControl(
            open_budget(redis_url),
            enforce=self.demand_control == "on",
            default_list_size=self.default_list_size,
        )
