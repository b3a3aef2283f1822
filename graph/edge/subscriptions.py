"""The plan's cap on a caller's concurrent subscriptions (in this router process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph.edge.authn import budget_key
from nexus.auth.caller import Caller

if TYPE_CHECKING:
    from graph.subscriptions.hub import Listener, SharedStream


class SubscriptionQuota:
    """Open subscriptions by caller. An entry whose stream ended or whose listener left is
    dropped when counted, so nothing needs to report a subscription's end."""

    def __init__(self) -> None:
        self._open: dict[str, list[tuple[SharedStream, Listener]]] = {}

    def count(self, caller: Caller) -> int:
        key = budget_key(caller)
        entries = self._open.get(key)
        if not entries:
            return 0
        live = [
            (shared, listener)
            for shared, listener in entries
            if listener in shared.listeners and not shared.task.done()
        ]
        if live:
            self._open[key] = live
        else:
            del self._open[key]
        return len(live)

    def refusal(self, caller: Caller) -> dict[str, Any] | None:
        """The error response when `caller` already holds its plan's subscriptions."""
        limit = caller.plan.max_subscriptions
        if self.count(caller) < limit:
            return None
        message = (
            f"The {caller.plan.name} plan allows {limit} concurrent subscriptions per caller; "
            "complete one before starting another."
        )
        return {"errors": [{"message": message, "extensions": {"code": "RATE_LIMITED"}}]}

    def opened(self, caller: Caller, shared: SharedStream, listener: Listener) -> None:
        self._open.setdefault(budget_key(caller), []).append((shared, listener))
