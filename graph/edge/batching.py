"""Operation batching: a JSON array of GraphQL requests in one POST, answered by an array of
responses in the same order (the GraphQL-over-HTTP batching convention of Apollo Router and
Hive Gateway). Off by default; a batch is bounded, and each operation in it passes the same
edge as a single request (limits, access control, cost and budget).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_OPERATIONS = 10


class BatchingConfigError(ValueError):
    """A batching setting that cannot be read; the message names the variable."""


@dataclass(frozen=True, slots=True)
class BatchSettings:
    enabled: bool = False
    max_operations: int = DEFAULT_MAX_OPERATIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BatchSettings:
        env = os.environ if env is None else env
        switch = env.get("NEXUS_BATCHING", "off").strip().lower()
        if switch not in ("on", "off"):
            raise BatchingConfigError("NEXUS_BATCHING must be on or off")
        raw = env.get("NEXUS_BATCH_MAX_OPERATIONS", str(DEFAULT_MAX_OPERATIONS)).strip()
        if not raw.isdigit() or int(raw) < 1:
            raise BatchingConfigError(
                f"NEXUS_BATCH_MAX_OPERATIONS must be a whole number of operations, not {raw!r}"
            )
        return cls(switch == "on", int(raw))

    def refusal(self, size: int) -> str | None:
        """Why a batch of `size` operations is refused (a 400's message), or None."""
        if not self.enabled:
            return (
                "Operation batching is off on this server: send one operation per request "
                "(a JSON object), or ask the operator to set NEXUS_BATCHING=on."
            )
        if size == 0:
            return "The batch is empty: send at least one operation."
        if size > self.max_operations:
            return (
                f"The batch holds {size} operations; the limit is {self.max_operations}. "
                "Send fewer per request."
            )
        return None
