"""Who may introspect the schema (`__schema`, `__type`): `NEXUS_INTROSPECTION`.

`on` (the default: GraphiQL and codegen need it), `authenticated` (callers with an API key or
token only), or `off` (production APIs that publish `schema.graphql` instead). `__typename` is
always allowed: clients select it everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from nexus.auth.caller import Caller

Mode = Literal["on", "authenticated", "off"]


class IntrospectionConfigError(ValueError):
    """NEXUS_INTROSPECTION holds a value the router cannot use."""


@dataclass(frozen=True, slots=True)
class Introspection:
    mode: Mode = "on"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Introspection:
        env = os.environ if env is None else env
        mode = env.get("NEXUS_INTROSPECTION", "on").strip().lower()
        if mode not in ("on", "authenticated", "off"):
            raise IntrospectionConfigError(
                f"NEXUS_INTROSPECTION must be on, authenticated or off, not {mode!r}"
            )
        return cls(mode)  # type: ignore[arg-type]

    def refusal(self, caller: Caller) -> str | None:
        """Why `caller` may not introspect (the error message), or None."""
        if self.mode == "on" or (self.mode == "authenticated" and caller.authenticated):
            return None
        if self.mode == "authenticated":
            return "Introspection is open to authenticated callers only: send an API key or token."
        return "Introspection is disabled on this server; download /schema.graphql instead."
