"""Demand control at the edge: refuse an operation estimated over the caller's plan, debit the
caller's budget, and say so in the response (status, IETF RateLimit headers, `extensions.cost`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.edge.authn import budget_key
from graph.edge.budget import Budget, Debit
from graph.edge.cost import DEFAULT_LIST_SIZE
from nexus.auth.caller import Caller

POLICY_NAME = "cost"  # the quota policy's name in the RateLimit header fields


@dataclass(slots=True)
class EdgeOutcome:
    """What the edge decided for one HTTP request, for the gateway to put on the response."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    estimated: int | None = None  # cost units
    actual: int | None = None  # cost units


def rate_limit_headers(debit: Debit) -> dict[str, str]:
    """The IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers):
    quota `q` cost units per window `w` seconds; `r` units remaining, `t` seconds until full."""
    reset = 0 if math.isinf(debit.reset) else math.ceil(debit.reset)
    headers = {
        "RateLimit-Policy": f'"{POLICY_NAME}";q={debit.limit};w={int(debit.window)}',
        "RateLimit": f'"{POLICY_NAME}";r={max(debit.remaining, 0)};t={reset}',
    }
    if not debit.allowed:
        retry = int(debit.window) if math.isinf(debit.retry_after) else debit.retry_after
        headers["Retry-After"] = str(max(1, math.ceil(retry)))
    return headers


class DemandControl:
    """The plan's per-operation maximum and the caller's per-minute budget."""

    def __init__(
        self, budget: Budget, *, enforce: bool = True, default_list_size: int = DEFAULT_LIST_SIZE
    ) -> None:
        self.budget = budget
        self.enforce = enforce  # False: measure and report only (`NEXUS_DEMAND_CONTROL=measure`)
        self.default_list_size = default_list_size  # items, for lists without @listSize

    async def admit(
        self,
        caller: Caller,
        estimated: int,
        outcome: EdgeOutcome | None,
        dearest: Callable[[], list[tuple[str, int]]] | None = None,
    ) -> dict[str, Any] | None:
        """None when the operation may run (its estimated cost debited); else the error
        response to send (the outcome then holds its status and headers). `dearest` names the
        operation's dearest root fields and their costs, for the refusal's message."""
        plan = caller.plan
        if outcome is not None:
            outcome.estimated = estimated
        if self.enforce and estimated > plan.max_operation_cost:
            fields = dearest() if dearest is not None else []
            named = ", ".join(f"`{name}` {cost}" for name, cost in fields)
            return _refused(
                f"The operation's estimated cost is {estimated} cost units; the "
                f"{plan.name} plan allows at most {plan.max_operation_cost} per operation."
                + (f" Dearest fields: {named}." if named else "")
                + " Select fewer fields or pass smaller list sizes (`first`, `limit`)"
                + (
                    ", or sign in or send an API key: every other plan allows more."
                    if not caller.authenticated
                    else "."
                ),
                "COST_ESTIMATED_TOO_EXPENSIVE",
                estimated,
            )
        debit = await self.budget.debit(budget_key(caller), estimated, plan.cost_per_minute)
        if outcome is not None:
            outcome.headers.update(rate_limit_headers(debit))
        if debit.allowed or not self.enforce:
            return None
        if outcome is not None:
            outcome.status = 429
        retry = rate_limit_headers(debit)["Retry-After"]
        return _refused(
            f"The {plan.name} plan's budget of {plan.cost_per_minute} cost units per minute is "
            f"spent; {debit.remaining} left and this operation needs {estimated}. "
            f"Retry in {retry} s.",
            "RATE_LIMITED",
            estimated,
        )


def _refused(message: str, code: str, estimated: int) -> dict[str, Any]:
    return {
        "errors": [{"message": message, "extensions": {"code": code}}],
        "extensions": {"cost": {"estimated": estimated, "actual": 0}},
    }
